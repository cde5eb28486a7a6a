using System;
using System.Collections.Generic;
using System.Threading;

namespace SelectReactor;

public sealed partial class Reactor
{
    // A min-heap on (due, sequence). Cancelled timers are left in place and skipped when they surface; when they
    // outnumber the live ones the heap is rebuilt, so cancel-heavy use (idle timeouts) cannot grow it without bound.
    private readonly PriorityQueue<ReactorTimer, TimerKey> _timers = new();
    private readonly List<ReactorTimer> _timerScratch = new();
    private long _timerSequence;
    private int _cancelledTimers;

    /// <summary>Runs <paramref name="callback"/> once on the reactor thread after <paramref name="dueTime"/>. Safe from any thread.</summary>
    /// <param name="dueTime">The delay, measured with <see cref="ReactorOptions.TimeProvider"/>; zero runs it at the next tick.</param>
    /// <param name="callback">The work. An exception it throws is logged and the loop goes on.</param>
    /// <returns>A handle whose <see cref="IDisposable.Dispose"/> cancels the timer from any thread.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dueTime"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed, and the call is not from one of its own
    /// callbacks (from those, including its last tick's and its shutdown's, the timer is taken and never fires).</exception>
    public IDisposable Schedule(TimeSpan dueTime, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
        return AddTimerFromAnyThread(new ReactorTimer(this, callback, DueAfter(dueTime), period: 0));
    }

    /// <summary>
    /// Runs <paramref name="callback"/> on the reactor thread every <paramref name="period"/>, first after one period.
    /// Fixed rate: the n-th run is due n periods after scheduling, so lateness does not accumulate. A timer that
    /// falls behind skips the runs it missed instead of firing a burst to catch up. Safe from any thread.
    /// </summary>
    /// <param name="period">The interval, measured with <see cref="ReactorOptions.TimeProvider"/>; must be positive.</param>
    /// <param name="callback">The work. An exception it throws is logged and the timer keeps running.</param>
    /// <returns>A handle whose <see cref="IDisposable.Dispose"/> cancels the timer from any thread.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is zero or negative.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed, and the call is not from one of its own callbacks (see <see cref="Schedule"/>).</exception>
    public IDisposable SchedulePeriodic(TimeSpan period, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        long periodStamps = Math.Max(1, TimeSpanToTimestamp(period));
        return AddTimerFromAnyThread(new ReactorTimer(this, callback, DueAfter(period), periodStamps));
    }

    internal void OnTimerCancelled() => Interlocked.Increment(ref _cancelledTimers);

    private ReactorTimer AddTimerFromAnyThread(ReactorTimer timer)
    {
        if (IsOnReactorThread)
        {
            // Even in the last tick or the shutdown: the heap is dropped with the reactor, this timer with it.
            AddTimer(timer);
        }
        else
        {
            Enqueue(new WorkItem(AddTimerOperation.Instance, timer));
        }

        return timer;
    }

    private void AddTimer(ReactorTimer timer)
    {
        if (timer.IsCancelled)
        {
            // Cancelled while queued: it never entered the heap, so it does not count as a cancelled entry there.
            Interlocked.Decrement(ref _cancelledTimers);
            return;
        }

        _timers.Enqueue(timer, new TimerKey(timer.Due, _timerSequence++));
    }

    /// <summary>
    /// Fires every timer due now. Timers added or re-armed during this pass have a newer sequence number and wait for
    /// the next tick, so a callback that schedules a zero-delay timer cannot keep this loop going forever.
    /// </summary>
    private void RunDueTimers()
    {
        if (Volatile.Read(ref _cancelledTimers) > 64 && Volatile.Read(ref _cancelledTimers) > _timers.Count / 2)
        {
            CompactTimers();
        }

        if (_timers.Count == 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        long sequenceLimit = _timerSequence;
        while (_timers.TryPeek(out ReactorTimer? timer, out TimerKey key) && key.Due <= now && key.Sequence < sequenceLimit)
        {
            _timers.Dequeue();
            if (timer.IsCancelled)
            {
                Interlocked.Decrement(ref _cancelledTimers);
                continue;
            }

            if (timer.Period > 0)
            {
                // Fixed rate from the original schedule; skip whole periods missed rather than burst.
                long next = timer.Due + timer.Period;
                if (next <= now)
                {
                    next = timer.Due + (((now - timer.Due) / timer.Period) + 1) * timer.Period;
                }

                timer.Due = next;
                _timers.Enqueue(timer, new TimerKey(next, _timerSequence++));
            }
            else
            {
                timer.MarkFired();
            }

            _dispatched++;
            try
            {
                timer.Callback();
            }
            catch (Exception e)
            {
                // A timer callback's bug is logged; it must not stop the loop (nor a periodic timer).
                Log.TimerFault(_logger, _name, e);
            }

            EndOfCallback();
            if (_pendingCloses.Count > 0)
            {
                DeliverCloses();
            }
        }
    }

    private void CompactTimers()
    {
        _timerScratch.Clear();
        while (_timers.TryDequeue(out ReactorTimer? timer, out _))
        {
            if (!timer.IsCancelled)
            {
                _timerScratch.Add(timer);
            }
        }

        foreach (ReactorTimer timer in _timerScratch)
        {
            _timers.Enqueue(timer, new TimerKey(timer.Due, _timerSequence++));
        }

        _timerScratch.Clear();
        Volatile.Write(ref _cancelledTimers, 0);
    }

    private long DueAfter(TimeSpan delay)
    {
        long now = _time.GetTimestamp();
        long delta = TimeSpanToTimestamp(delay);
        return delta > long.MaxValue - now ? long.MaxValue : now + delta;
    }

    private long TimeSpanToTimestamp(TimeSpan span)
    {
        // Saturating: a delay too large to represent means "never" in practice.
        double stamps = (double)span.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond;
        return stamps >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)Math.Ceiling(stamps);
    }

    private long TimestampToTimeSpanTicks(long stamps)
    {
        double ticks = (double)stamps * TimeSpan.TicksPerSecond / _time.TimestampFrequency;
        return ticks >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)Math.Ceiling(ticks);
    }
}
