using System;
using System.Linq;
using Microsoft.Extensions.Logging;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;

namespace SelectReactor.Tests;

/// <summary>
/// What the reactor's own callbacks may still ask of it while it is being disposed: the rest of the tick in which
/// Dispose was called (its last), and the OnClosed calls of its shutdown. Other threads are refused at once.
/// </summary>
public sealed class LastTickTests
{
    [Fact]
    public void InTheLastTick_RegisterScheduleAndPost_AreTakenAndEndWithTheReactor()
    {
        var log = new CapturingLoggerProvider();
        var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair pair = Loopback.Pair();
        var late = new RecordingHandler();
        bool timerRan = false;
        bool actionRan = false;

        Exception? thrown = running.Invoke(() => Record.Exception(() =>
        {
            ClosingWhileDisposedTests.DisposeFromAnotherThread(running.Reactor);
            running.Reactor.Register(pair.Server, late, Interest.Read);
            running.Reactor.Schedule(TimeSpan.FromMinutes(1), () => timerRan = true);
            running.Reactor.Post(() => actionRan = true);
        }));

        running.Join().Should().BeTrue();
        thrown.Should().BeNull();
        late.ClosedCount.Should().Be(1);
        late.WaitClosed().Reason.Should().Be(CloseReason.ReactorDisposed);
        timerRan.Should().BeFalse();
        actionRan.Should().BeFalse();
        log.Entries.Where(e => e.Level >= LogLevel.Error).Should().BeEmpty();
    }

    [Fact]
    public void FromOnClosedDuringTheShutdown_ScheduleAndPostAreDropped_RegisterIsRefused()
    {
        var reactor = new Reactor();
        using SocketPair first = Loopback.Pair();
        using SocketPair second = Loopback.Pair();
        Exception? scheduled = null;
        Exception? posted = null;
        Exception? registered = null;
        bool ran = false;
        var handler = new RecordingHandler
        {
            Closed = (_, _, _) =>
            {
                scheduled = Record.Exception(() => reactor.Schedule(TimeSpan.Zero, () => ran = true));
                posted = Record.Exception(() => reactor.Post(() => ran = true));

                // Refused: a handler that registers again from every OnClosed would keep the shutdown going for ever.
                registered = Record.Exception(() => reactor.Register(second.Server, new RecordingHandler(), Interest.Read));
            },
        };
        reactor.Register(first.Server, handler, Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        reactor.Dispose();

        handler.WaitClosed().Reason.Should().Be(CloseReason.ReactorDisposed);
        scheduled.Should().BeNull();
        posted.Should().BeNull();
        registered.Should().BeOfType<ObjectDisposedException>();
        ran.Should().BeFalse();
        reactor.Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>("the shutdown is over");
    }
}
