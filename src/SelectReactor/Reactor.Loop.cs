using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace SelectReactor;

public sealed partial class Reactor
{
    // Tiering (see SocketTiers): a registration with no event for ColdAfter goes cold and is polled in slices, a
    // pass over the cold tier spread over a pace between MinColdPace and ReactorOptions.MaxColdSocketDelay, chosen so
    // that cold polling takes about ColdShare of a busy loop (10,000 idle sockets: a 3.5-4.2 ms pass, a 35-40 ms pace).
    private static readonly TimeSpan ColdAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinColdPace = TimeSpan.FromMilliseconds(10);
    private const double ColdShare = 0.1;

    // The tiers' clock when this tick started, and again once its select returned.
    private long _tickNow;

    // This tick's select covered the cold tier too (the loop had nothing to do for a whole pace).
    private bool _selectedEverything;

    // Registrations that watch nothing are in no select list, so a socket disposed under one never makes a select
    // fail. They are checked together, once per MaxSelectTimeout, by one zero-timeout select of their own; with none
    // of them (the common case) a tick pays one comparison.
    private long _idleCheckDue;

    /// <summary>How many probe-and-evict rounds one tick may run before a still-failing select counts as unexplained.</summary>
    private const int MaxEvictionRounds = 8;

    private readonly ManualResetEventSlim _backoff = new(initialState: false);
    private int _consecutiveSelectFailures;
    private int _stopRequested;
    private CancellationToken _runToken;
    private int _dispatched;

    /// <summary>
    /// Runs the loop on the calling thread until <see cref="Stop"/>, cancellation of
    /// <paramref name="cancellationToken"/>, or <see cref="Dispose"/>. Each tick waits at most
    /// <see cref="ReactorOptions.MaxSelectTimeout"/>, less when a timer is due sooner.
    /// </summary>
    /// <param name="cancellationToken">Stops the loop when cancelled; the loop returns promptly, without throwing.</param>
    /// <exception cref="InvalidOperationException">The loop is already running (on any thread, including from one
    /// of this reactor's own callbacks), or <c>Socket.Select</c> failed five times in a row with no dead socket to
    /// blame, after backing off between attempts (the last failure is the inner exception).</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public void Run(CancellationToken cancellationToken = default)
    {
        EnterLoop();
        _runToken = cancellationToken;
        CancellationTokenRegistration onCancel = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((Reactor)state!)._wakeup.Wake(), this)
            : default;
        try
        {
            Log.LoopStarted(_logger, _name);
            while ((Volatile.Read(ref _stopRequested) == 0 || Interlocked.Exchange(ref _stopRequested, 0) == 0)
                && !cancellationToken.IsCancellationRequested
                && !Volatile.Read(ref _disposed))
            {
                Tick(_maxSelectTimeout);
            }

            Log.LoopStopped(_logger, _name);
        }
        finally
        {
            onCancel.Dispose();
            _runToken = default;
            ExitLoop();
        }
    }

    /// <summary>
    /// Runs exactly one tick on the calling thread: queued work, due timers, a <c>Socket.Select</c> waiting at most
    /// <paramref name="timeout"/> (less when a timer, or the next slice of idle sockets, is due sooner), and dispatch.
    /// For embedding the reactor in a caller's own loop.
    /// </summary>
    /// <remarks>
    /// <see cref="Stop"/> ends this call's wait: a stop requested while it waits, during its callbacks, or before it
    /// was called (so that a stop made between two calls is never lost) makes it return without waiting. Each stop
    /// request is consumed by the <see cref="Run"/> or <see cref="RunOnce"/> call it ends, so the calls after that
    /// wait their full timeout again: a caller driving its own loop checks its own condition after each call.
    /// </remarks>
    /// <param name="timeout">The longest wait: <see cref="TimeSpan.Zero"/> to poll, up to
    /// <see cref="ReactorOptions.MaxTimeout"/>, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <returns>The number of callbacks run: readiness callbacks, <see cref="IEventHandler.OnClosed"/>, posted
    /// actions and timer callbacks.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite) or too long.</exception>
    /// <exception cref="InvalidOperationException">The loop is already running, or select keeps failing (see <see cref="Run"/>).</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public int RunOnce(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout > ReactorOptions.MaxTimeout))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or positive and at most ReactorOptions.MaxTimeout, or Timeout.InfiniteTimeSpan.");
        }

        EnterLoop();
        try
        {
            return Tick(timeout);
        }
        finally
        {
            // The stop request this call honoured (by not waiting) is spent: left set, it would make every later
            // call compute a zero timeout and turn a blocking RunOnce loop into a spin.
            Volatile.Write(ref _stopRequested, 0);
            ExitLoop();
        }
    }

    /// <summary>
    /// Asks the running loop to return: <see cref="Run"/> after the current tick, <see cref="RunOnce"/> without
    /// waiting (or at once, if it is waiting). Safe from any thread; wakes a reactor blocked in select.
    /// </summary>
    /// <remarks>
    /// A request made while no loop runs is kept for the next <see cref="Run"/> (which then returns at once) or
    /// <see cref="RunOnce"/> (which then does not wait). Each request is consumed by the one call it ends; it never
    /// makes later calls return early. Stop neither disposes nor closes anything: <see cref="Run"/> may be called again.
    /// </remarks>
    public void Stop()
    {
        Volatile.Write(ref _stopRequested, 1);
        if (!IsOnReactorThread)
        {
            _backoff.Set();
            WakeIfRunningElsewhere();
        }
    }

    private void EnterLoop()
    {
        lock (_lifecycleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loopThreadId != 0)
            {
                throw new InvalidOperationException(_loopThreadId == Environment.CurrentManagedThreadId
                    ? "The reactor's loop cannot be entered again from one of its own callbacks."
                    : "The reactor's loop is already running on another thread.");
            }

            // Interlocked for a full fence: pairs with WakeIfRunningElsewhere (see there).
            Interlocked.Exchange(ref _loopThreadId, Environment.CurrentManagedThreadId);
            _loopIdle.Reset();
        }
    }

    private void ExitLoop()
    {
        bool shutDown;
        lock (_lifecycleLock)
        {
            _loopThreadId = 0;
            shutDown = _disposed;
        }

        try
        {
            if (shutDown)
            {
                ShutDownOnce();
            }
        }
        finally
        {
            _loopIdle.Set();
        }
    }

    /// <summary>One turn of the loop, in the order it runs. Returns the callbacks dispatched.</summary>
    private int Tick(TimeSpan maxWait)
    {
        _dispatched = 0;
        _tickNow = _tiers.Now();

        // 1. Cross-thread changes and posted work. Re-arm the wake-up first: anything queued after this point sends
        //    a fresh datagram, so the select below cannot sleep through it. Work from elsewhere counts as activity:
        //    a loop that other threads keep busy is not idle (see SocketTiers.ShouldSelectEverything).
        _wakeup.Reset();
        if (!_queue.IsEmpty)
        {
            DrainQueue();
            _tiers.NoteEvent(_tickNow);
        }

        // 2. Timers that are due; then, now and then, the sockets that watch nothing (are they still alive?) and the
        //    sockets that have gone quiet (cold from now on).
        RunDueTimers();
        CheckIdleSockets();
        if (_tiers.DemoteQuiet(_tickNow))
        {
            _sets.MarkDirty();
        }

        // 3. Select: the hot sockets, waiting at most until a timer or the next cold slice is due; or everything at
        //    once, if the loop has had nothing to do for a whole pace and may wait three. On failure, evict the dead
        //    sockets and try again within this tick.
        if (!SelectReady(maxWait))
        {
            DeliverCloses();
            RecordTick();
            return _dispatched;
        }

        // 4. Poll the cold sockets whose turn has come, in slices; the ready ones join this tick's dispatch.
        PollColdSlices();

        // 5. Dispatch, in the order promised: readable, writable, error (hot sockets, then cold ones, in each). Each
        //    callback re-checks that its registration is still active and still wants the event, since an earlier
        //    callback may have changed it.
        long dispatchStart = ReactorMetrics.DispatchDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        int dispatchedBefore = _dispatched;
        Dispatch(_selectedEverything ? _sets.AllRead : _sets.Read, Interest.Read);
        Dispatch(_sets.ColdReadyRead, Interest.Read);
        Dispatch(_sets.Write, Interest.Write);
        Dispatch(_selectedEverything ? _sets.AllError : _sets.Error, Interest.Error);
        Dispatch(_sets.ColdReadyError, Interest.Error);
        _sets.ColdReadyRead.Clear();
        _sets.ColdReadyError.Clear();
        if (_dispatched != dispatchedBefore)
        {
            _tiers.NoteEvent(_tickNow);
        }

        DeliverCloses();
        if (dispatchStart != 0)
        {
            ReactorMetrics.DispatchDuration.Record(Stopwatch.GetElapsedTime(dispatchStart).TotalSeconds, MetricTag);
        }

        RecordTick();
        return _dispatched;
    }

    private void RecordTick()
    {
        if (ReactorMetrics.Ticks.Enabled)
        {
            ReactorMetrics.Ticks.Add(1, MetricTag);
        }

        if (_dispatched > 0 && ReactorMetrics.Callbacks.Enabled)
        {
            ReactorMetrics.Callbacks.Add(_dispatched, MetricTag);
        }
    }

    /// <summary>Fills the lists and selects; false when the tick must end without dispatch (a failed select backed off).</summary>
    private bool SelectReady(TimeSpan maxWait)
    {
        for (int round = 1; ; round++)
        {
            // Rebuild first: a registration that has just stopped watching anything schedules the idle check, which
            // the timeout must then not outlast.
            RebuildIfDirty();
            int timeoutMicros = ComputeTimeoutMicros(maxWait, out bool everything);
            SelectList read = _sets.Read, error = _sets.Error;
            if (everything)
            {
                _sets.BuildAll(_tiers.Cold.Registrations);
                read = _sets.AllRead;
                error = _sets.AllError;
            }

            read.Fill(_wakeup.Socket);
            _sets.Write.Fill(null);
            error.Fill(null);
            try
            {
                long selectStart = ReactorMetrics.SelectDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
                SelectImplementation(read.Sockets, _sets.Write.Sockets, error.Sockets, timeoutMicros);
                if (selectStart != 0)
                {
                    ReactorMetrics.SelectDuration.Record(Stopwatch.GetElapsedTime(selectStart).TotalSeconds, MetricTag);
                }

                _consecutiveSelectFailures = 0;
                _selectedEverything = everything;
                _tickNow = _tiers.Now();
                if (everything)
                {
                    _tiers.Cold.Restart(_tickNow);
                }

                return true;
            }
            catch (Exception selectError) when (selectError is not OutOfMemoryException)
            {
                // Expected: a registered socket died (ObjectDisposedException, SocketException, or whatever the
                // runtime throws for a bad handle). Find and evict the culprits, then retry with the survivors.
                // Bounded, so a select that fails whatever we evict cannot keep this tick going forever.
                if (round <= MaxEvictionRounds && EvictDeadSockets() > 0)
                {
                    DeliverCloses();
                    continue;
                }

                BackOffAfterUnexplainedFailure(selectError);
                return false;
            }
        }
    }

    /// <summary>
    /// Rebuilds the hot lists when a registration came, went, changed its interest or moved between tiers: the
    /// only time the lists cost more than three block copies.
    /// </summary>
    private void RebuildIfDirty()
    {
        if (!_sets.TakeDirty())
        {
            return;
        }

        _tiers.PromoteChangedElsewhere(_tickNow);
        bool hadIdle = _sets.WatchingNothing.Count > 0;
        _sets.Rebuild(_tiers.Hot);
        if (!hadIdle && _sets.WatchingNothing.Count > 0)
        {
            // The first idle registration starts the clock: a socket disposed under it from now on is found within
            // one period.
            _idleCheckDue = _time.GetTimestamp() + _idleCheckPeriod;
        }
    }

    /// <summary>
    /// Polls the cold sockets that are due, in slices small enough that the runtime allocates nothing, and keeps the
    /// ready ones for the dispatch. A slice that fails holds a dead socket: the probe evicts it (and any other dead
    /// one) and the slice is polled again, so a cold socket's death is found within the pace too.
    /// </summary>
    private void PollColdSlices()
    {
        ColdTier cold = _tiers.Cold;
        if (_selectedEverything || cold.Count == 0)
        {
            return;
        }

        SelectList read = _sets.SliceRead, error = _sets.SliceError;
        int due = cold.Due(_tickNow);
        int round = 0;
        while (due > 0 && cold.Count > 0)
        {
            int taken = cold.TakeSlice(read, error);
            int entries = read.Count + error.Count;
            read.Fill(null);
            error.Fill(null);
            long start = Stopwatch.GetTimestamp();
            try
            {
                SelectImplementation(read.Count > 0 ? read.Sockets : null, null, error.Count > 0 ? error.Sockets : null, 0);
                _consecutiveSelectFailures = 0;
            }
            catch (Exception selectError) when (selectError is not OutOfMemoryException)
            {
                // Expected: a cold socket died behind the reactor's back. As in SelectReady.
                if (++round <= MaxEvictionRounds && EvictDeadSockets() > 0)
                {
                    DeliverCloses();
                    continue;
                }

                BackOffAfterUnexplainedFailure(selectError);
                break;
            }

            long elapsed = Stopwatch.GetTimestamp() - start;
            KeepReady(read, _sets.ColdReadyRead);
            KeepReady(error, _sets.ColdReadyError);
            cold.Polled(taken, entries, elapsed, _tickNow);
            due = cold.Due(_tickNow); // whole slices only: the rest waits for a slice's worth, or the end of the pass
        }

        // The slices' sockets stay referenced only until the next slice; release them so closed ones can go.
        read.Sockets.Clear();
        error.Sockets.Clear();
        _sets.ColdReadyRead.Fill(null);
        _sets.ColdReadyError.Fill(null);
    }

    private static void KeepReady(SelectList slice, SelectList ready)
    {
        List<Socket> sockets = slice.Sockets;
        int from = 0;
        for (int i = 0; i < sockets.Count; i++)
        {
            if (slice.Next(sockets[i], ref from) is { } registration)
            {
                ready.Add(registration);
            }
        }
    }

    /// <summary>
    /// Once per <see cref="ReactorOptions.MaxSelectTimeout"/>, one zero-timeout select over the sockets that watch
    /// nothing; if it fails, one of them died, and the usual probe finds and evicts it.
    /// </summary>
    private void CheckIdleSockets()
    {
        if (_sets.WatchingNothing.Count == 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        if (now < _idleCheckDue)
        {
            return;
        }

        _idleCheckDue = now + _idleCheckPeriod;
        RebuildIfDirty();
        SelectList idle = _sets.WatchingNothing;
        if (idle.Count == 0)
        {
            return;
        }

        idle.Fill(null);
        try
        {
            SelectImplementation(idle.Sockets, null, null, 0);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Expected: a socket was disposed behind our back. Which one is the probe's job.
            EvictDeadSockets();
            DeliverCloses();
        }
        finally
        {
            idle.Sockets.Clear();
        }
    }

    private void Dispatch(SelectList list, Interest which)
    {
        List<Socket> ready = list.Sockets;
        int from = 0;
        for (int i = 0; i < ready.Count; i++)
        {
            Socket socket = ready[i];
            if (ReferenceEquals(socket, _wakeup.Socket))
            {
                _wakeup.Drain();
                continue;
            }

            Registration? registration = list.Next(socket, ref from);
            if (registration is null || registration.State != Registration.StateActive || (registration.InterestBits & (int)which) == 0)
            {
                continue;
            }

            // An event makes a registration hot (again): from the next tick it is in the per-tick select.
            if (registration.Cold)
            {
                _tiers.Promote(registration, _tickNow);
                _sets.MarkDirty();
            }
            else
            {
                registration.LastActive = _tickNow;
            }

            _dispatched++;
            try
            {
                switch (which)
                {
                    case Interest.Read:
                        registration.Handler.OnReadable(registration);
                        break;
                    case Interest.Write:
                        registration.Handler.OnWritable(registration);
                        break;
                    default:
                        registration.Handler.OnError(registration);
                        break;
                }
            }
            catch (Exception e)
            {
                if (e is ObjectDisposedException && _probe.Check(registration.Socket, (int)Interest.Read, SelectImplementation) is not null)
                {
                    // The socket was disposed behind the reactor's back after the select began (by another thread, or
                    // an earlier callback of this tick) and the handler tripped over it: a dead socket, as promised,
                    // not the handler's bug. Checked here rather than before every dispatch, so the hot path pays
                    // nothing; a check before dispatch could not close the race anyway.
                    EvictDead(registration, e);
                }
                else
                {
                    // A handler bug must cost only its own registration.
                    Log.HandlerFault(_logger, _name, registration, CallbackName(which), e);
                    Close(registration, CloseReason.HandlerFault, e);
                    if (ReactorMetrics.HandlerFaults.Enabled)
                    {
                        ReactorMetrics.HandlerFaults.Add(1, MetricTag);
                    }
                }
            }

            EndOfCallback();
            if (_pendingCloses.Count > 0)
            {
                DeliverCloses();
            }
        }
    }

    private static string CallbackName(Interest which) => which switch
    {
        Interest.Read => nameof(IEventHandler.OnReadable),
        Interest.Write => nameof(IEventHandler.OnWritable),
        _ => nameof(IEventHandler.OnError),
    };

    /// <summary>
    /// Probes every registered socket alone, hot and cold, with a zero timeout, in each list it was in (the read list
    /// for one that watches nothing), and evicts the ones whose probe throws. Also replaces the wake-up socket if it
    /// is the one that died. Returns how many were removed.
    /// </summary>
    private int EvictDeadSockets()
    {
        int evicted = 0;

        // Backwards, because eviction moves a later registration into the freed place (in either tier).
        for (int i = _tiers.Cold.Count - 1; i >= 0; i--)
        {
            evicted += EvictIfDead(_tiers.Cold.Registrations[i]);
        }

        for (int i = _tiers.Hot.Length - 1; i >= 0; i--)
        {
            evicted += EvictIfDead(_tiers.Hot[i]);
        }

        Exception? wakeupDeath = _probe.Check(_wakeup.Socket, (int)Interest.Read, SelectImplementation);
        if (wakeupDeath is not null)
        {
            Log.WakeupRecreated(_logger, _name, wakeupDeath);
            _wakeup.Recreate();
            evicted++;
        }

        return evicted;
    }

    private int EvictIfDead(Registration registration)
    {
        // A socket watching nothing was in no list and cannot have failed this select, but if it is dead it is still
        // a registration to end: the probe checks it as if it read, which costs nothing for a live one.
        Exception? death = _probe.Check(registration.Socket, registration.InterestBits, SelectImplementation);
        if (death is null)
        {
            return 0;
        }

        EvictDead(registration, death);
        return 1;
    }

    private void EvictDead(Registration registration, Exception death)
    {
        Log.DeadSocketEvicted(_logger, _name, registration, death);
        Close(registration, CloseReason.DeadSocket, death);
        if (ReactorMetrics.DeadSockets.Enabled)
        {
            ReactorMetrics.DeadSockets.Add(1, MetricTag);
        }
    }

    /// <summary>
    /// Select failed and no socket is to blame: log, wait a little (so a persistent failure cannot spin the CPU), and
    /// after <see cref="MaxConsecutiveSelectFailures"/> in a row give up loudly rather than swallow it forever.
    /// </summary>
    private void BackOffAfterUnexplainedFailure(Exception selectError)
    {
        int attempt = ++_consecutiveSelectFailures;
        int backoffMs = Math.Min(1000, 10 << (attempt - 1));
        Log.SelectFailed(_logger, _name, attempt, MaxConsecutiveSelectFailures, attempt >= MaxConsecutiveSelectFailures ? 0 : backoffMs, selectError);
        if (attempt >= MaxConsecutiveSelectFailures)
        {
            _consecutiveSelectFailures = 0;
            throw new InvalidOperationException(
                $"Socket.Select failed {attempt} times in a row and no registered socket was to blame.", selectError);
        }

        // Interruptible by Stop and Dispose, which set the event.
        _backoff.Wait(backoffMs);
        _backoff.Reset();
    }

    /// <summary>
    /// The select timeout in microseconds: zero when work is already waiting, otherwise the time to the next timer
    /// (or idle check, or cold slice) capped at <paramref name="maxWait"/>, rounded up to whole milliseconds (the
    /// runtime truncates to milliseconds, and a truncated sub-millisecond wait would make the loop spin). -1 waits
    /// indefinitely. <paramref name="everything"/>: whether this wait selects the cold tier too (see
    /// <see cref="SocketTiers.ShouldSelectEverything"/>); if not, the wait ends when the next cold slice is due.
    /// </summary>
    private int ComputeTimeoutMicros(TimeSpan maxWait, out bool everything)
    {
        everything = false;
        if (!_queue.IsEmpty || _pendingCloses.Count > 0 || Volatile.Read(ref _stopRequested) != 0
            || _runToken.IsCancellationRequested || Volatile.Read(ref _disposed))
        {
            return 0;
        }

        long waitTicks = maxWait == Timeout.InfiniteTimeSpan ? -1 : maxWait.Ticks;
        bool haveTimer = _timers.TryPeek(out _, out TimerKey next);
        bool haveIdle = _sets.WatchingNothing.Count > 0;
        if (haveTimer || haveIdle)
        {
            long now = _time.GetTimestamp();
            if ((haveTimer && !WaitAtMostUntil(next.Due, now, ref waitTicks))
                || (haveIdle && !WaitAtMostUntil(_idleCheckDue, now, ref waitTicks)))
            {
                return 0;
            }
        }

        int micros = ToWholeMilliseconds(waitTicks);
        if (_tiers.Cold.Count == 0)
        {
            return micros;
        }

        long nowTier = _tiers.Now();
        everything = _tiers.ShouldSelectEverything(nowTier, micros);
        if (!everything)
        {
            // Wake for the next slice (whole milliseconds, rounded up: it may come a little late, never spin).
            long untilSlice = _tiers.UntilNextSlice(nowTier);
            if (untilSlice <= 0)
            {
                return 0;
            }

            int sliceMicros = ToWholeMilliseconds(untilSlice);
            micros = micros < 0 ? sliceMicros : Math.Min(micros, sliceMicros);
        }

        return micros;
    }

    /// <summary>A wait in TimeSpan ticks (-1: unbounded) as select's microseconds, rounded up to whole milliseconds.</summary>
    private static int ToWholeMilliseconds(long waitTicks)
    {
        if (waitTicks < 0)
        {
            return -1;
        }

        long wholeMs = (waitTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        return (int)Math.Min(int.MaxValue, wholeMs * 1000);
    }

    /// <summary>Caps <paramref name="waitTicks"/> (-1: unbounded) at the time until <paramref name="due"/>; false when it is due already.</summary>
    private bool WaitAtMostUntil(long due, long now, ref long waitTicks)
    {
        long until = TimestampToTimeSpanTicks(due - now);
        if (until <= 0)
        {
            return false;
        }

        if (waitTicks < 0 || until < waitTicks)
        {
            waitTicks = until;
        }

        return true;
    }
}
