using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

public sealed class ThreadingTests
{
    private static readonly ReactorOptions LongSelect = new() { MaxSelectTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public void Post_FromAnotherThread_WakesALongSelectWithin100Milliseconds()
    {
        using var running = new RunningReactor(LongSelect);
        running.Invoke(() => 0);
        var latencies = new List<TimeSpan>();

        for (int i = 0; i < 5; i++)
        {
            Thread.Sleep(20); // not synchronisation: lets the loop settle back into its 30 s select
            var ran = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            running.Reactor.Post(() => ran.SetResult(Environment.CurrentManagedThreadId));
            Wait.Result(ran.Task).Should().Be(running.ThreadId);
            latencies.Add(clock.Elapsed);
        }

        latencies.Order().ElementAt(2).Should().BeLessThan(TimeSpan.FromMilliseconds(100), "the median wake-up must not wait for the 30 s select");
    }

    [Fact]
    public void Stop_FromAnotherThread_ReturnsRunWithin100Milliseconds()
    {
        var reactor = new Reactor(LongSelect);
        var started = new ManualResetEventSlim();
        var thread = new Thread(() => reactor.Run()) { IsBackground = true };
        thread.Start();
        reactor.Post(started.Set);
        started.Wait(Wait.Generous).Should().BeTrue();
        Thread.Sleep(20); // not synchronisation: lets the loop settle back into its 30 s select

        var clock = Stopwatch.StartNew();
        reactor.Stop();
        thread.Join(Wait.Generous).Should().BeTrue();

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(100));
        reactor.Dispose();
    }

    [Fact]
    public void Post_WithNoLoopRunning_SendsNoWakeupDatagram()
    {
        using var reactor = new Reactor();
        int ran = 0;

        reactor.Post(() => ran++);
        reactor.Schedule(TimeSpan.Zero, () => ran++);

        reactor.WakeupSocketForTests.Available.Should().Be(0, "the next tick drains the queue before selecting anyway");
        reactor.RunOnce(TimeSpan.Zero).Should().Be(2);
        ran.Should().Be(2);
    }

    [Fact]
    public void Post_WithState_RunsOnTheReactorThreadWithTheState()
    {
        using var running = new RunningReactor();
        var result = new TaskCompletionSource<(int, int)>(TaskCreationOptions.RunContinuationsAsynchronously);

        running.Reactor.Post(static state => state.result.SetResult((state.value, Environment.CurrentManagedThreadId)), (value: 42, result));

        Wait.Result(result.Task).Should().Be((42, running.ThreadId));
    }

    [Fact]
    public void Post_FromManyThreads_EachRunsOnceAndInOrderPerThread()
    {
        const int Threads = 4;
        const int PerThread = 2_000;
        using var running = new RunningReactor();
        var seen = new List<(int Thread, int Sequence)>();
        Parallel.For(0, Threads, t =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                running.Reactor.Post(static s => s.seen.Add((s.t, s.i)), (seen, t, i));
            }
        });

        running.Invoke(() => 0);

        seen.Should().HaveCount(Threads * PerThread);
        foreach (var group in seen.GroupBy(s => s.Thread))
        {
            group.Select(s => s.Sequence).Should().Equal(Enumerable.Range(0, PerThread));
        }
    }

    [Fact]
    public void Post_ThrowingAction_IsLoggedAndTheLoopGoesOn()
    {
        var log = new CapturingLoggerProvider();
        using var running = new RunningReactor(new ReactorOptions { LoggerFactory = log });

        running.Reactor.Post(() => throw new InvalidOperationException("posted boom"));

        running.Invoke(() => 1).Should().Be(1);
        log.Count(122).Should().Be(1);
        running.LoopError.Should().BeNull();
    }

    [Fact]
    public void Post_ThatPostsAgain_DoesNotStarveTheTick()
    {
        using var reactor = new Reactor();
        int runs = 0;
        void Again()
        {
            runs++;
            reactor.Post(Again);
        }

        reactor.Post(Again);

        reactor.RunOnce(TimeSpan.Zero).Should().Be(1);
        reactor.RunOnce(TimeSpan.Zero).Should().Be(1);
        runs.Should().Be(2);
    }

    [Fact]
    public void Register_FromAnotherThreadWhileRunning_DispatchesOnTheReactorThread()
    {
        using var running = new RunningReactor(LongSelect);
        using SocketPair pair = Loopback.Pair();
        var handler = new RecordingHandler();
        var writable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        handler.Writable = r => { r.Interest = Interest.None; writable.TrySetResult(); };

        running.Reactor.Register(pair.Server, handler, Interest.Write);

        Wait.For(writable.Task);
        handler.CallbackThreads.Should().OnlyContain(id => id == running.ThreadId);
    }

    [Fact]
    public void Concurrency_ManyThreadsRegisterPostAndDispose_NothingLostOrDuplicated()
    {
        const int Threads = 6;
        const int Rounds = 40;
        using var running = new RunningReactor();
        var pairs = new ConcurrentBag<SocketPair>();
        var handlers = new ConcurrentBag<RecordingHandler>();
        int posted = 0;
        int ran = 0;

        Parallel.For(0, Threads, _ =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                SocketPair pair = Loopback.Pair();
                pairs.Add(pair);
                var handler = new RecordingHandler();
                handlers.Add(handler);
                Registration registration = running.Reactor.Register(pair.Server, handler, Interest.Read | Interest.Write);
                registration.Interest = Interest.Read;
                Interlocked.Increment(ref posted);
                running.Reactor.Post(() => Interlocked.Increment(ref ran));
                if (i % 2 == 0)
                {
                    registration.Dispose();
                }
            }
        });

        running.Invoke(() => 0);
        Volatile.Read(ref ran).Should().Be(posted);
        Wait.Until(() => handlers.Count(h => h.ClosedCount == 1) == Threads * Rounds / 2, "every disposed registration closed");
        running.Reactor.RegistrationCount.Should().Be(Threads * Rounds / 2);
        running.Dispose();
        handlers.Should().OnlyContain(h => h.ClosedCount == 1);
        running.LoopError.Should().BeNull();
        foreach (SocketPair pair in pairs)
        {
            pair.Dispose();
        }
    }
}
