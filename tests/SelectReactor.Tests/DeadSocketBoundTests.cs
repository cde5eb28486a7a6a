using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>
/// A dead socket always ends as <see cref="CloseReason.DeadSocket"/>, within a bounded time, even when nothing else
/// makes a select fail: one that watches nothing, and one disposed while the loop waits in select.
/// </summary>
public sealed class DeadSocketBoundTests
{
    private static readonly TimeSpan MaxSelect = TimeSpan.FromSeconds(1);

    [Fact]
    public void IdleRegistration_SocketDisposed_IsEvictedAtTheNextCheckOneMaxSelectTimeoutLater()
    {
        var time = new FakeTimeProvider();
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = time, MaxSelectTimeout = MaxSelect });
        using SocketPair idle = Loopback.Pair();
        using SocketPair busy = Loopback.Pair();
        var idleHandler = new RecordingHandler();
        reactor.Register(idle.Server, idleHandler, Interest.None);
        reactor.Register(busy.Server, new RecordingHandler(), Interest.Read);
        reactor.RunOnce(TimeSpan.Zero);

        idle.Server.Dispose();
        reactor.RunOnce(TimeSpan.Zero);
        time.Advance(MaxSelect - TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero);
        int closedBeforeTheBound = idleHandler.ClosedCount;
        time.Advance(TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero);

        closedBeforeTheBound.Should().Be(0, "idle sockets are checked once per MaxSelectTimeout, not every tick");
        idleHandler.Snapshot().Should().Equal("closed:DeadSocket");
        idleHandler.ClosedTask.Result.Error.Should().BeOfType<ObjectDisposedException>();
        reactor.RegistrationCount.Should().Be(1);
    }

    [Fact]
    public void IdleRegistration_DefaultOptions_IsCheckedEverySecondThoughSelectWaitsFiveSeconds()
    {
        // An idle reactor sleeps up to MaxSelectTimeout (5 s by default, each wake-up being a select over everything),
        // but a socket that watches nothing is still checked once a second.
        new ReactorOptions().MaxSelectTimeout.Should().Be(TimeSpan.FromSeconds(5));
        var time = new FakeTimeProvider();
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = time });
        using SocketPair idle = Loopback.Pair();
        var idleHandler = new RecordingHandler();
        reactor.Register(idle.Server, idleHandler, Interest.None);
        reactor.RunOnce(TimeSpan.Zero);

        idle.Server.Dispose();
        time.Advance(TimeSpan.FromMilliseconds(999));
        reactor.RunOnce(TimeSpan.Zero);
        int closedBeforeASecond = idleHandler.ClosedCount;
        time.Advance(TimeSpan.FromMilliseconds(1));
        reactor.RunOnce(TimeSpan.Zero);

        closedBeforeASecond.Should().Be(0);
        idleHandler.Snapshot().Should().Equal("closed:DeadSocket");
    }

    [Fact]
    public void IdleRegistration_SocketDisposed_ALongSelectIsCutShortToEvictIt()
    {
        var log = new CapturingLoggerProvider();
        using var running = new RunningReactor(new ReactorOptions { LoggerFactory = log, MaxSelectTimeout = TimeSpan.FromMilliseconds(100) });
        using SocketPair idle = Loopback.Pair();
        var idleHandler = new RecordingHandler();
        running.Reactor.Register(idle.Server, idleHandler, Interest.None);
        running.Invoke(() => 0);

        idle.Server.Dispose();

        (CloseReason reason, _) = idleHandler.WaitClosed();
        reason.Should().Be(CloseReason.DeadSocket);
        log.Count(110).Should().Be(1, "the eviction is logged once, at Warning");
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void RunOnce_LongerThanMaxSelectTimeout_WaitsNoLongerThanTheNextIdleCheck()
    {
        var time = new FakeTimeProvider();
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = time, MaxSelectTimeout = MaxSelect });
        using SocketPair idle = Loopback.Pair();
        var timeouts = new List<int>();
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            timeouts.Add(micros);
            Socket.Select(r, w, e, 0);
        };
        reactor.Register(idle.Server, new RecordingHandler(), Interest.None);

        reactor.RunOnce(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromMilliseconds(400));
        reactor.RunOnce(Timeout.InfiniteTimeSpan);

        timeouts.Should().Equal(1_000_000, 600_000);
    }

    [Fact]
    public void NoIdleRegistration_EachTickSelectsExactlyOnce()
    {
        var time = new FakeTimeProvider();
        // Tiering off: this counts selects, and a quiet socket goes cold (polled in slices of its own) after a second.
        using var reactor = new Reactor(new ReactorOptions { TimeProvider = time, MaxSelectTimeout = MaxSelect, MaxColdSocketDelay = TimeSpan.Zero });
        using SocketPair pair = Loopback.Pair();
        int selects = 0;
        reactor.SelectImplementation = (r, w, e, micros) =>
        {
            selects++;
            Socket.Select(r, w, e, 0);
        };
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Read);

        for (int i = 0; i < 10; i++)
        {
            time.Advance(MaxSelect);
            reactor.RunOnce(TimeSpan.Zero);
        }

        selects.Should().Be(10, "with no idle registration there is nothing extra to check");
    }

    [Fact]
    public void Dispatch_SocketDisposedByAnEarlierCallbackInTheSameTick_ClosesAsDeadSocketNotHandlerFault()
    {
        var log = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = log });
        using SocketPair killer = Loopback.Pair();
        using SocketPair victim = Loopback.Pair();
        var victimHandler = new RecordingHandler { Readable = r => r.Socket.Receive(new byte[16]) };
        var killerHandler = new RecordingHandler { Readable = r => victim.Server.Dispose() };
        reactor.Register(killer.Server, killerHandler, Interest.Read);
        reactor.Register(victim.Server, victimHandler, Interest.Read);
        killer.Client.Send(new byte[] { 1 });
        victim.Client.Send(new byte[] { 1 });
        Wait.Until(() => killer.Server.Available > 0 && victim.Server.Available > 0, "both bytes arrived");

        reactor.RunOnce(Wait.Generous);

        victimHandler.Snapshot().Should().Equal("readable", "closed:DeadSocket");
        victimHandler.ClosedTask.Result.Error.Should().BeOfType<ObjectDisposedException>();
        log.Count(120).Should().Be(0, "a dead socket is not the handler's fault");
        log.Entries.Where(e => e.EventId == 110).Should().ContainSingle().Which.Level.Should().Be(LogLevel.Warning);
    }

    [Fact]
    public void Dispatch_SocketDisposedFromAnotherThreadDuringSelect_ClosesAsDeadSocket()
    {
        var log = new CapturingLoggerProvider();
        using var running = new RunningReactor(new ReactorOptions { LoggerFactory = log, MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using SocketPair victim = Loopback.Pair();
        var handler = new RecordingHandler { Readable = r => r.Socket.Receive(new byte[16]) };
        running.Reactor.Register(victim.Server, handler, Interest.Read);
        running.Invoke(() => 0);
        Thread.Sleep(50); // not synchronisation: lets the loop settle into its 30 s select, the case under test

        victim.Server.Dispose();

        (CloseReason reason, Exception? error) = handler.WaitClosed();
        reason.Should().Be(CloseReason.DeadSocket);
        error.Should().BeOfType<ObjectDisposedException>();
        log.Count(120).Should().Be(0);
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void Dispatch_HandlerThrowsObjectDisposedForSomethingElse_IsStillAHandlerFault()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler { Readable = _ => throw new ObjectDisposedException("its own stream") };
        reactor.Register(pair.Server, handler, Interest.Read);
        pair.Client.Send(new byte[] { 1 });
        Wait.Until(() => pair.Server.Available > 0, "the byte arrived");

        reactor.RunOnce(Wait.Generous);

        handler.Snapshot().Should().Equal("readable", "closed:HandlerFault");
    }
}
