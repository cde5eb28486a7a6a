using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public void Run_WhileRunningOnAnotherThread_IsAnInvalidOperation()
    {
        using var running = new RunningReactor();
        running.Invoke(() => 0);

        running.Reactor.Invoking(r => r.Run()).Should().Throw<InvalidOperationException>();
        running.Reactor.Invoking(r => r.RunOnce(TimeSpan.Zero)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void RunOnce_FromInsideACallback_IsAnInvalidOperation()
    {
        using var reactor = new Reactor();
        Exception? thrown = null;
        reactor.Post(() => thrown = Record.Exception(() => reactor.RunOnce(TimeSpan.Zero)));

        reactor.RunOnce(TimeSpan.Zero);

        thrown.Should().BeOfType<InvalidOperationException>();
    }

    [Fact]
    public void Stop_BeforeRun_MakesTheNextRunReturnAtOnce()
    {
        using var reactor = new Reactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        reactor.Stop();
        var clock = Stopwatch.StartNew();

        reactor.Run();

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        var second = Task.Run(() => reactor.Run());
        reactor.Post(reactor.Stop);
        Wait.For(second);
    }

    [Fact]
    public void Stop_InsideACallback_RunReturnsAfterThatTick()
    {
        using var reactor = new Reactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        reactor.Post(reactor.Stop);

        var run = Task.Run(() => reactor.Run());

        Wait.For(run);
    }

    [Fact]
    public void Run_CancellationToken_StopsTheLoopWithoutThrowing()
    {
        using var reactor = new Reactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using var cts = new CancellationTokenSource();
        var started = new ManualResetEventSlim();
        reactor.Post(started.Set);
        var run = Task.Run(() => reactor.Run(cts.Token));
        started.Wait(Wait.Generous).Should().BeTrue();

        cts.Cancel();

        Wait.For(run);
        run.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public void RunOnce_ReturnsTheCallbacksItDispatched()
    {
        using var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        reactor.RunOnce(TimeSpan.Zero).Should().Be(0);
        reactor.Register(pair.Server, new RecordingHandler(), Interest.Write);
        reactor.Post(() => { });

        int dispatched = reactor.RunOnce(Wait.Generous);

        dispatched.Should().Be(2, "one posted action and one writable callback");
    }

    [Fact]
    public void RunOnce_NothingReady_WaitsAboutTheTimeoutAndReturnsZero()
    {
        using var reactor = new Reactor();
        var clock = Stopwatch.StartNew();

        reactor.RunOnce(TimeSpan.FromMilliseconds(30)).Should().Be(0);

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(25));
    }

    [Fact]
    public void RunOnce_InvalidTimeout_IsRejected()
    {
        using var reactor = new Reactor();

        reactor.Invoking(r => r.RunOnce(TimeSpan.FromMilliseconds(-5))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Dispose_FromAnotherThreadWhileRunning_StopsTheLoopAndClosesEverythingOnTheReactorThread()
    {
        var running = new RunningReactor(new ReactorOptions { MaxSelectTimeout = TimeSpan.FromSeconds(30) });
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        running.Reactor.Register(pair.Server, handler, Interest.Read);
        running.Invoke(() => 0);

        running.Reactor.Dispose();

        handler.ClosedCount.Should().Be(1, "Dispose returns after the loop has closed everything");
        handler.WaitClosed().Reason.Should().Be(CloseReason.ReactorDisposed);
        handler.CallbackThreads.Should().OnlyContain(id => id == running.ThreadId);
        running.Join().Should().BeTrue();
        running.LoopError.Should().BeNull();
        running.Dispose();
    }

    [Fact]
    public void Dispose_FromInsideACallback_RunReturnsAndEverythingIsClosed()
    {
        var reactor = new Reactor();
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        reactor.Register(pair.Server, handler, Interest.Read);
        reactor.Post(reactor.Dispose);

        var run = Task.Run(() => reactor.Run());

        Wait.For(run);
        handler.Snapshot().Should().Equal("closed:ReactorDisposed");
    }

    [Fact]
    public void Disposed_EveryEntryPointThrowsObjectDisposed()
    {
        var reactor = new Reactor();
        reactor.Dispose();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        reactor.Invoking(r => r.Register(socket, new RecordingHandler(), Interest.Read)).Should().Throw<ObjectDisposedException>();
        reactor.Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>();
        reactor.Invoking(r => r.Schedule(TimeSpan.Zero, () => { })).Should().Throw<ObjectDisposedException>();
        reactor.Invoking(r => r.Run()).Should().Throw<ObjectDisposedException>();
        reactor.Invoking(r => r.RunOnce(TimeSpan.Zero)).Should().Throw<ObjectDisposedException>();
        reactor.Invoking(r => r.Stop()).Should().NotThrow();
    }

    [Fact]
    public void Options_InvalidMaxSelectTimeout_IsRejected()
    {
        var options = new ReactorOptions();

        options.Invoking(o => o.MaxSelectTimeout = TimeSpan.Zero).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.MaxSelectTimeout = TimeSpan.FromHours(1)).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.TimeProvider = null!).Should().Throw<ArgumentNullException>();
        options.MaxSelectTimeout = Timeout.InfiniteTimeSpan;
        options.MaxSelectTimeout.Should().Be(Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public void Run_InfiniteMaxSelectTimeout_StillWakesForTimersAndPosts()
    {
        using var running = new RunningReactor(new ReactorOptions { MaxSelectTimeout = Timeout.InfiniteTimeSpan });
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        running.Reactor.Schedule(TimeSpan.FromMilliseconds(20), fired.SetResult);

        Wait.For(fired.Task);
    }
}
