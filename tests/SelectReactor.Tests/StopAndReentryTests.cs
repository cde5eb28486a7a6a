using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>What Stop means for RunOnce, and what Dispose, Run and RunOnce do when called from a reactor's own callback.</summary>
public sealed class StopAndReentryTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void RunOnce_AfterStopFromOutside_ReturnsOnceAtOnceThenBlocksAgain()
    {
        using var reactor = new Reactor();
        var timeouts = new List<int>();
        reactor.SelectImplementation = (read, write, error, micros) =>
        {
            timeouts.Add(micros);
            Socket.Select(read, write, error, micros);
        };
        reactor.Stop();

        reactor.RunOnce(Tick);
        int calls = CallsWithin(reactor, TimeSpan.FromSeconds(1));

        timeouts[0].Should().Be(0, "a stop requested between two RunOnce calls is not lost: the next call does not wait");
        timeouts.Skip(1).Should().OnlyContain(micros => micros == 200_000, "that call consumed the stop");
        calls.Should().BeLessThanOrEqualTo(10, "each later RunOnce(200 ms) waits again (a spin would make ~10^5 calls)");
    }

    [Fact]
    public void RunOnce_AfterStopInsideItsOwnCallback_LaterCallsBlockAgain()
    {
        using var reactor = new Reactor();
        reactor.Post(reactor.Stop);

        reactor.RunOnce(Tick).Should().Be(1);
        int calls = CallsWithin(reactor, TimeSpan.FromSeconds(1));

        calls.Should().BeLessThanOrEqualTo(10, "the stop is consumed by the call it ended");
    }

    [Fact]
    public void RunOnce_StopFromAnotherThreadWhileWaiting_CutsTheWaitShort()
    {
        using var reactor = new Reactor();
        var stopper = Task.Run(() =>
        {
            Thread.Sleep(100); // not synchronisation: the assertion holds whether or not the wait has begun
            reactor.Stop();
        });

        var clock = Stopwatch.StartNew();
        reactor.RunOnce(TimeSpan.FromSeconds(30));

        clock.Elapsed.Should().BeLessThan(Wait.Generous);
        Wait.For(stopper);
    }

    [Fact]
    public void Run_AfterRunOnceConsumedAStop_RunsUntilTheNextStop()
    {
        using var reactor = new Reactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromMilliseconds(50) });
        reactor.Stop();
        reactor.RunOnce(TimeSpan.Zero);
        int ticks = 0;
        using IDisposable counter = reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(5), () =>
        {
            if (++ticks == 3)
            {
                reactor.Stop();
            }
        });

        var run = Task.Run(() => reactor.Run());

        Wait.For(run);
        ticks.Should().Be(3, "the stop RunOnce consumed does not also end the Run that follows");
    }

    [Fact]
    public void GroupDispose_FromOneOfItsOwnReactorThreads_CompletesAndEveryReactorCloses()
    {
        var group = new ReactorGroup(3);
        using SocketPair own = Loopback.Pair();
        using SocketPair other = Loopback.Pair();
        var ownHandler = new RecordingHandler();
        var otherHandler = new RecordingHandler();
        group.Reactors[0].Register(own.Server, ownHandler, Interest.Read);
        group.Reactors[2].Register(other.Server, otherHandler, Interest.Read);
        var disposed = new TaskCompletionSource<Thread>(TaskCreationOptions.RunContinuationsAsynchronously);

        group.Reactors[0].Post(() =>
        {
            Exception? error = Record.Exception(group.Dispose);
            if (error is null)
            {
                disposed.SetResult(Thread.CurrentThread);
            }
            else
            {
                disposed.SetException(error);
            }
        });

        Thread ownThread = Wait.Result(disposed.Task);
        otherHandler.Snapshot().Should().Equal(["closed:ReactorDisposed"], "the other reactors were stopped and waited for");
        ownThread.Join(Wait.Generous).Should().BeTrue("the calling reactor finishes as soon as its callback returns");
        ownHandler.Snapshot().Should().Equal("closed:ReactorDisposed");
        group.Reactors.Should().OnlyContain(r => r.RegistrationCount == 0);
        group.Invoking(g => g.Dispose()).Should().NotThrow("Dispose stays idempotent");
    }

    [Fact]
    public void ReactorDispose_InsideARunOnceCallback_ThatCallReturnsAndEverythingIsClosed()
    {
        var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        reactor.Register(pair.Server, handler, Interest.Read);
        reactor.Post(reactor.Dispose);

        reactor.RunOnce(Wait.Generous);

        handler.Snapshot().Should().Equal("closed:ReactorDisposed");
        reactor.Invoking(r => r.RunOnce(TimeSpan.Zero)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void ReactorDispose_OfAnotherRunningReactorFromACallback_WaitsForItAndCompletes()
    {
        using var caller = new RunningReactor();
        var target = new RunningReactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        target.Reactor.Register(pair.Server, handler, Interest.Read);
        target.Invoke(() => 0);

        caller.Invoke(() =>
        {
            target.Reactor.Dispose();
            return 0;
        });

        handler.ClosedCount.Should().Be(1, "Dispose from another reactor's thread waits for the target's loop to close everything");
        target.Join().Should().BeTrue();
        target.LoopError.Should().BeNull();
    }

    [Fact]
    public void Run_FromInsideACallback_IsAnInvalidOperationAndTheLoopGoesOn()
    {
        using var running = new RunningReactor();

        Exception? fromRun = running.Invoke(() => Record.Exception(() => running.Reactor.Run()));
        Exception? fromRunOnce = running.Invoke(() => Record.Exception(() => running.Reactor.RunOnce(TimeSpan.Zero)));

        fromRun.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("own callbacks");
        fromRunOnce.Should().BeOfType<InvalidOperationException>();
        running.Invoke(() => 1).Should().Be(1);
        running.LoopError.Should().BeNull();
    }

    private static int CallsWithin(Reactor reactor, TimeSpan window)
    {
        // Bounded both by time and by count, so a spinning reactor fails fast instead of running a million calls.
        int calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window && calls < 1_000)
        {
            reactor.RunOnce(Tick);
            calls++;
        }

        return calls;
    }
}
