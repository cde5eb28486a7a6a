using System;
using BenchmarkDotNet.Attributes;

namespace SelectReactor.Benchmarks;

/// <summary>
/// Timer costs on a reactor with no sockets. The benchmark thread is not the reactor thread between
/// <see cref="Reactor.RunOnce"/> calls, so <see cref="Reactor.Schedule"/> here takes the cross-thread path: a queued
/// work item plus a wake-up datagram, drained by the next tick. Each benchmark includes that draining tick.
/// </summary>
[MemoryDiagnoser]
public class TimerBenchmarks
{
    private const int Batch = 64;

    private Reactor _reactor = null!;
    private Action _callback = null!;
    private Action _scheduleCancelBatch = null!;
    private long _fired;

    [GlobalSetup]
    public void Setup()
    {
        _reactor = new Reactor();
        _callback = () => _fired++;
        _scheduleCancelBatch = () =>
        {
            for (int i = 0; i < Batch; i++)
            {
                _reactor.Schedule(TimeSpan.FromHours(1), _callback).Dispose();
            }
        };
        _reactor.RunOnce(TimeSpan.Zero);
    }

    [GlobalCleanup]
    public void Cleanup() => _reactor.Dispose();

    /// <summary>The bare tick on an empty reactor: the floor under both timer benchmarks.</summary>
    [Benchmark(Baseline = true)]
    public int EmptyTick() => _reactor.RunOnce(TimeSpan.Zero);

    /// <summary>Schedule a far-off one-shot timer off-thread, cancel it, and run the tick that drains the queue.</summary>
    [Benchmark]
    public int ScheduleCancel()
    {
        IDisposable timer = _reactor.Schedule(TimeSpan.FromHours(1), _callback);
        timer.Dispose();
        return _reactor.RunOnce(TimeSpan.Zero);
    }

    /// <summary>Schedule a zero-delay timer off-thread and run the tick that queues and fires it.</summary>
    [Benchmark]
    public int ScheduleFire()
    {
        _reactor.Schedule(TimeSpan.Zero, _callback);
        long before = _fired;
        int dispatched = _reactor.RunOnce(TimeSpan.Zero);
        if (_fired == before)
        {
            throw new InvalidOperationException("The zero-delay timer did not fire in the tick that drained it.");
        }

        return dispatched;
    }

    /// <summary>
    /// Schedule-and-cancel on the reactor thread (inside a posted action), where Schedule goes straight into the
    /// heap and the cancelled entries are compacted later. 64 per tick; the post and the tick are amortised over them.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int ScheduleCancelOnReactorThread()
    {
        _reactor.Post(_scheduleCancelBatch);
        return _reactor.RunOnce(TimeSpan.Zero);
    }
}
