using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Time.Testing;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Robustness;

/// <summary>Where an operation runs: on the test thread, on another thread, or on the reactor thread inside a tick.</summary>
public enum Where
{
    TestThread,
    OtherThread,
    ReactorThread,
}

/// <summary>One step of a generated sequence. Indexes are taken modulo what exists, so every sequence is valid.</summary>
public abstract record Op;

public sealed record Register(Interest Interest, Where Where) : Op;

public sealed record SetInterest(int Index, Interest Interest, Where Where) : Op;

public sealed record Unregister(int Index, Where Where) : Op;

public sealed record DisposeSocketBehindTheReactorsBack(int Index) : Op;

public sealed record PeerSends(int Index, int Bytes) : Op;

public sealed record PeerHalfCloses(int Index) : Op;

public sealed record PeerResets(int Index) : Op;

public sealed record HandlerThrowsNext(int Index) : Op;

public sealed record HandlerSetsInterestNext(int Index, int Other, Interest Interest) : Op;

public sealed record HandlerUnregistersNext(int Index, int Other) : Op;

public sealed record Post(Where Where) : Op;

public sealed record Schedule(int DueMs, int PeriodMs, Where Where) : Op;

public sealed record CancelTimer(int Index, Where Where) : Op;

public sealed record Advance(int Ms) : Op;

public sealed record RunOnce : Op;

/// <summary>
/// Runs a sequence of <see cref="Op"/>s against a real reactor with real loopback sockets, driven tick by tick under
/// a fake clock, while a simple model tracks what must be true. Every violated invariant is collected; the caller
/// fails the sample with them.
/// </summary>
internal sealed class ReactorModel : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly Reactor _reactor;
    private readonly OtherThread _other = new();
    private readonly List<Reg> _regs = new();
    private readonly List<TimerModel> _timers = new();
    private readonly List<string> _violations = new();
    private readonly ConcurrentQueue<(int Thread, int Sequence)> _postsRun = new();
    private readonly List<(int Thread, int Sequence, int DueByTick)> _postsIssued = new();
    private readonly int[] _postSequence = new int[3];
    private int _tick;

    // The tiers run on the model's clock too, with short periods, so that random sequences move registrations
    // between the hot and cold tiers all the time: Advance steps (0-60 ms) cross both.
    private static readonly TimeSpan ColdAfter = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(10);

    public ReactorModel()
    {
        _reactor = new Reactor(new ReactorOptions { TimeProvider = _time });
        _reactor.UseTiers(_time, ColdAfter, Bound);
    }

    public IReadOnlyList<string> Violations => _violations;

    public static void Run(IEnumerable<Op> ops)
    {
        using var model = new ReactorModel();
        int step = 0;
        foreach (Op op in ops)
        {
            model.Apply(op);
            if (model._violations.Count > 0)
            {
                break;
            }

            step++;
        }

        if (model._violations.Count == 0)
        {
            model.Tick();
        }

        if (model._violations.Count == 0)
        {
            model.CheckNothingLost();
        }

        if (model._violations.Count == 0)
        {
            model.DisposeAndCheck();
        }

        if (model._violations.Count > 0)
        {
            throw new InvalidOperationException($"after step {step}: " + string.Join("; ", model._violations));
        }
    }

    public void Dispose()
    {
        _reactor.Dispose();
        _other.Dispose();
        foreach (Reg reg in _regs)
        {
            reg.Pair.Dispose();
        }
    }

    private void Apply(Op op)
    {
        switch (op)
        {
            case Register(Interest interest, Where where):
            {
                var reg = new Reg(_regs.Count, Loopback.Pair(), interest, this);
                _regs.Add(reg);
                Do(where, () => reg.Registration = _reactor.Register(reg.Pair.Server, reg.Handler, interest));
                break;
            }

            case SetInterest(int index, Interest interest, Where where) when Pick(index) is { } reg:
                if (!reg.Closed && !reg.Unregistered)
                {
                    reg.Interest = interest;
                }

                Do(where, () => reg.Registration!.Interest = interest);
                break;

            case Unregister(int index, Where where) when Pick(index) is { } reg:
                reg.Unregistered |= !reg.Closed;
                Do(where, () => reg.Registration!.Dispose());
                break;

            case DisposeSocketBehindTheReactorsBack(int index) when Pick(index) is { } reg:
                reg.Pair.Server.Dispose();
                reg.SocketDisposed = true;
                reg.DeathTime ??= _time.GetTimestamp();
                break;

            case PeerSends(int index, int bytes) when Pick(index) is { PeerOpen: true, PeerSendOpen: true } reg:
                Peer(reg, () => reg.Pair.Client.Send(new byte[bytes]));
                break;

            case PeerHalfCloses(int index) when Pick(index) is { PeerOpen: true, PeerSendOpen: true } reg:
                Peer(reg, () => reg.Pair.Client.Shutdown(SocketShutdown.Send));
                reg.PeerSendOpen = false;
                break;

            case PeerResets(int index) when Pick(index) is { PeerOpen: true } reg:
                reg.Pair.Client.LingerState = new LingerOption(true, 0);
                reg.Pair.Client.Close();
                reg.PeerOpen = false;
                break;

            case HandlerThrowsNext(int index) when Pick(index) is { } reg:
                reg.Handler.ThrowNext = true;
                break;

            case HandlerSetsInterestNext(int index, int other, Interest interest) when Pick(index) is { } reg && Pick(other) is { } target:
                // In its next callback, this handler changes another registration's (or its own) interest.
                reg.Handler.NextAction = () =>
                {
                    if (!target.Closed && !target.Unregistered && target.Registration is { IsActive: true })
                    {
                        target.Interest = interest;
                    }

                    if (target.Registration is not null)
                    {
                        target.Registration.Interest = interest;
                    }
                };
                break;

            case HandlerUnregistersNext(int index, int other) when Pick(index) is { } reg && Pick(other) is { } target:
                // In its next callback, this handler unregisters another registration (or itself).
                reg.Handler.NextAction = () =>
                {
                    target.Unregistered |= !target.Closed;
                    target.Registration?.Dispose();
                };
                break;

            case Post(Where where):
                IssuePost(where);
                break;

            case Schedule(int dueMs, int periodMs, Where where):
            {
                var timer = new TimerModel(_timers.Count, _time.GetUtcNow() + TimeSpan.FromMilliseconds(periodMs > 0 ? periodMs : dueMs), TimeSpan.FromMilliseconds(periodMs));
                _timers.Add(timer);
                Action callback = () => timer.FireCount++;
                Do(where, () => timer.Handle = periodMs > 0
                    ? _reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(periodMs), callback)
                    : _reactor.Schedule(TimeSpan.FromMilliseconds(dueMs), callback));
                break;
            }

            case CancelTimer(int index, Where where) when _timers.Count > 0:
            {
                TimerModel timer = _timers[index % _timers.Count];
                timer.Cancelled = true;
                Do(where, () => timer.Handle!.Dispose());
                break;
            }

            case Advance(int ms):
                _time.Advance(TimeSpan.FromMilliseconds(ms));
                break;

            case RunOnce:
                Tick();
                break;
        }
    }

    /// <summary>A peer action; the server side may have reset the connection already (a disposed socket does).</summary>
    private static void Peer(Reg reg, Action action)
    {
        try
        {
            action();
        }
        catch (SocketException)
        {
            reg.PeerOpen = false;
        }
    }

    private Reg? Pick(int index) => _regs.Count == 0 ? null : _regs[index % _regs.Count];

    /// <summary>Runs an action where the operation says; on the reactor thread that means inside a tick.</summary>
    private void Do(Where where, Action action)
    {
        Action guarded = () =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                _violations.Add($"the operation threw {e.GetType().Name}: {e.Message}");
            }
        };

        switch (where)
        {
            case Where.TestThread:
                guarded();
                break;
            case Where.OtherThread:
                _other.Run(guarded);
                break;
            default:
                _reactor.Post(guarded);
                Tick();
                break;
        }
    }

    private void IssuePost(Where where)
    {
        int thread = (int)where;
        int sequence = _postSequence[thread]++;
        Action record = () => _postsRun.Enqueue((thread, sequence));
        switch (where)
        {
            case Where.TestThread:
                _reactor.Post(record);
                _postsIssued.Add((thread, sequence, _tick + 1));
                break;
            case Where.OtherThread:
                _other.Run(() => _reactor.Post(record));
                _postsIssued.Add((thread, sequence, _tick + 1));
                break;
            default:
                // Posted from inside a tick: it runs in the tick after.
                _postsIssued.Add((thread, sequence, _tick + 2));
                Do(Where.ReactorThread, () => _reactor.Post(record));
                break;
        }
    }

    private void Tick()
    {
        _tick++;
        DateTimeOffset now = _time.GetUtcNow();

        // What the model says must happen in this tick. A dead socket that this tick's hot select will hold makes it
        // fail, and the probe then evicts every dead one; a dead socket that is cold (or may go cold in this tick,
        // before the select) is found when its slice is polled: at the latest one bound after it died or went cold.
        List<Reg> open = _regs.Where(r => !r.Closed).ToList();
        List<Reg> dead = open.Where(r => r.SocketDisposed && !r.Unregistered).ToList();
        long tierNow = _time.GetTimestamp();
        foreach (Reg reg in dead)
        {
            reg.Deadline ??= Math.Max(reg.DeathTime!.Value, tierNow) + Bound.Ticks;
        }

        bool probeRuns = dead.Any(r => r.Interest != Interest.None && InHotSelect(r, tierNow));
        var mustClose = open.Where(r => r.Unregistered
            || (dead.Contains(r) && (probeRuns || (r.Interest != Interest.None && tierNow >= r.Deadline)))).ToHashSet();
        var timersDue = _timers.Where(t => !t.Cancelled && !t.Done && t.Due <= now).ToHashSet();
        foreach (TimerModel timer in _timers)
        {
            timer.FiredBefore = timer.FireCount;
        }

        foreach (Reg reg in _regs)
        {
            reg.Handler.Threw = false;
        }

        try
        {
            _reactor.RunOnce(TimeSpan.Zero);
        }
        catch (Exception e)
        {
            _violations.Add($"RunOnce threw {e}");
            return;
        }

        CheckRegistrations(open, mustClose);
        CheckTimers(now, timersDue);
        CheckPosts();
        int expectedCount = _regs.Count(r => !r.Closed);
        if (_reactor.RegistrationCount != expectedCount)
        {
            _violations.Add($"RegistrationCount is {_reactor.RegistrationCount}, the model says {expectedCount}");
        }

        _violations.AddRange(_regs.SelectMany(r => r.Handler.Violations));
    }

    /// <summary>
    /// Whether this tick's hot select surely holds the registration: registered (or queued, which joins hot), not
    /// cold, and not quiet long enough to go cold in this tick's sweep (which runs before the select).
    /// </summary>
    private static bool InHotSelect(Reg reg, long tierNow)
    {
        Registration? registration = reg.Registration;
        if (registration is null || registration.Slot < 0)
        {
            return true;
        }

        if (registration.Cold)
        {
            return false;
        }

        bool mayGoCold = (reg.Interest & Interest.Write) == 0 && tierNow - registration.LastActive >= ColdAfter.Ticks;
        return !mayGoCold;
    }

    /// <summary>
    /// After the sequence: every byte a peer sent to an open registration that reads is delivered, whichever tier
    /// it sat in. Ticks one bound apart (so every cold slice is polled) until nothing is left unread, bounded.
    /// </summary>
    private void CheckNothingLost()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        List<Reg> unread = Unread();
        while (unread.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(5) && _violations.Count == 0)
        {
            _time.Advance(Bound);
            Tick();
            Thread.Sleep(1);
            unread = Unread();
        }

        foreach (Reg reg in unread)
        {
            _violations.Add($"reg {reg.Id}: {reg.Pair.Server.Available} bytes its peer sent were never delivered (interest {reg.Interest}, cold={reg.Registration?.Cold})");
        }
    }

    private List<Reg> Unread() => _regs.Where(r => !r.Closed && !r.Unregistered && !r.SocketDisposed
        && (r.Interest & Interest.Read) != 0 && r.Registration is { IsActive: true } && Available(r) > 0).ToList();

    private static int Available(Reg reg)
    {
        try
        {
            return reg.Pair.Server.Available;
        }
        catch (SocketException)
        {
            return 0; // reset by the peer: nothing left to deliver
        }
    }

    private void CheckRegistrations(List<Reg> open, HashSet<Reg> mustClose)
    {
        foreach (Reg reg in open)
        {
            (CloseReason Reason, Exception? Error)[] closes = reg.Handler.Closes.ToArray();
            if (closes.Length > 1)
            {
                _violations.Add($"reg {reg.Id}: OnClosed {closes.Length} times");
                continue;
            }

            if (closes.Length == 0)
            {
                if (mustClose.Contains(reg))
                {
                    _violations.Add($"reg {reg.Id} should have closed (unregistered={reg.Unregistered}, socketDisposed={reg.SocketDisposed}, interest={reg.Interest})");
                }

                if (reg.Handler.Threw)
                {
                    _violations.Add($"reg {reg.Id}: its handler threw but it was not closed");
                }

                continue;
            }

            reg.Closed = true;
            CloseReason reason = closes[0].Reason;
            bool allowed = reason switch
            {
                CloseReason.Unregistered => reg.Unregistered,
                CloseReason.DeadSocket => reg.SocketDisposed && closes[0].Error is ObjectDisposedException,
                CloseReason.HandlerFault => reg.Handler.Threw && closes[0].Error is ModelHandlerException,
                _ => false,
            };
            if (!allowed)
            {
                _violations.Add($"reg {reg.Id} closed with {reason} ({closes[0].Error?.GetType().Name}) but unregistered={reg.Unregistered}, socketDisposed={reg.SocketDisposed}, threw={reg.Handler.Threw}");
            }
        }
    }

    private void CheckTimers(DateTimeOffset now, HashSet<TimerModel> due)
    {
        foreach (TimerModel timer in _timers)
        {
            int fired = timer.FireCount - timer.FiredBefore;
            int expected = due.Contains(timer) ? 1 : 0;
            if (fired != expected)
            {
                _violations.Add($"timer {timer.Id} (due {timer.Due:HH:mm:ss.fff}, period {timer.Period.TotalMilliseconds} ms, cancelled={timer.Cancelled}) fired {fired} times in a tick at {now:HH:mm:ss.fff}; expected {expected}");
            }

            if (fired > 0)
            {
                if (timer.Period > TimeSpan.Zero)
                {
                    // Fixed rate from the original schedule; runs missed are skipped, not fired in a burst.
                    DateTimeOffset next = timer.Due + timer.Period;
                    while (next <= now)
                    {
                        next += timer.Period;
                    }

                    timer.Due = next;
                }
                else
                {
                    timer.Done = true;
                }
            }
        }
    }

    private void CheckPosts()
    {
        var ran = _postsRun.ToArray();
        if (ran.Distinct().Count() != ran.Length)
        {
            _violations.Add("a posted action ran twice");
        }

        foreach (var group in ran.GroupBy(r => r.Thread))
        {
            int[] order = group.Select(r => r.Sequence).ToArray();
            if (!order.SequenceEqual(order.Order()))
            {
                _violations.Add($"posts from thread {group.Key} ran out of order: {string.Join(",", order)}");
            }
        }

        foreach (var issued in _postsIssued.Where(p => p.DueByTick <= _tick))
        {
            if (!ran.Contains((issued.Thread, issued.Sequence)))
            {
                _violations.Add($"post {issued.Thread}/{issued.Sequence} did not run by tick {issued.DueByTick}");
            }
        }
    }

    private void DisposeAndCheck()
    {
        var openBefore = _regs.Where(r => !r.Closed).ToList();
        int firedBefore = _timers.Sum(t => t.FireCount);
        _reactor.Dispose();
        foreach (Reg reg in _regs)
        {
            var closes = reg.Handler.Closes.ToArray();
            if (closes.Length != 1)
            {
                _violations.Add($"reg {reg.Id}: OnClosed {closes.Length} times in all");
                continue;
            }

            if (openBefore.Contains(reg) && !(closes[0].Reason == CloseReason.ReactorDisposed || (closes[0].Reason == CloseReason.Unregistered && reg.Unregistered)))
            {
                _violations.Add($"reg {reg.Id} closed by Dispose with {closes[0].Reason}");
            }
        }

        if (_reactor.RegistrationCount != 0)
        {
            _violations.Add($"RegistrationCount is {_reactor.RegistrationCount} after Dispose");
        }

        if (_timers.Sum(t => t.FireCount) != firedBefore)
        {
            _violations.Add("a timer fired during Dispose");
        }

        _violations.AddRange(_regs.SelectMany(r => r.Handler.Violations));
    }

    private sealed class Reg(int id, SocketPair pair, Interest interest, ReactorModel owner)
    {
        public int Id { get; } = id;

        public SocketPair Pair { get; } = pair;

        public ModelHandler Handler { get; } = new(id);

        public Registration? Registration { get; set; }

        public Interest Interest { get; set; } = interest;

        public bool Unregistered { get; set; }

        public bool SocketDisposed { get; set; }

        /// <summary>When the socket was disposed behind the reactor's back, on the model's clock.</summary>
        public long? DeathTime { get; set; }

        /// <summary>The tick by which a dead socket must have been evicted, whatever its tier.</summary>
        public long? Deadline { get; set; }

        public bool Closed { get; set; }

        public bool PeerOpen { get; set; } = true;

        public bool PeerSendOpen { get; set; } = true;

        public ReactorModel Owner { get; } = owner;
    }

    private sealed class TimerModel(int id, DateTimeOffset due, TimeSpan period)
    {
        public int Id { get; } = id;

        public DateTimeOffset Due { get; set; } = due;

        public TimeSpan Period { get; } = period;

        public IDisposable? Handle { get; set; }

        public bool Cancelled { get; set; }

        public bool Done { get; set; }

        public int FireCount { get; set; }

        public int FiredBefore { get; set; }
    }

    /// <summary>A persistent second thread: "another thread" always means the same one, so its posts have an order.</summary>
    private sealed class OtherThread : IDisposable
    {
        private readonly BlockingCollection<(Action Action, ManualResetEventSlim Done)> _work = new();
        private readonly Thread _thread;

        public OtherThread()
        {
            _thread = new Thread(() =>
            {
                foreach (var (action, done) in _work.GetConsumingEnumerable())
                {
                    action();
                    done.Set();
                }
            })
            { IsBackground = true, Name = "model-other-thread" };
            _thread.Start();
        }

        public void Run(Action action)
        {
            using var done = new ManualResetEventSlim();
            _work.Add((action, done));
            if (!done.Wait(Wait.Generous))
            {
                throw new TimeoutException("the other thread did not finish an operation");
            }
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            _thread.Join(Wait.Generous);
            _work.Dispose();
        }
    }
}

/// <summary>The exception a model handler throws on purpose.</summary>
public sealed class ModelHandlerException(string message) : Exception(message);

/// <summary>A handler that checks, at every callback, what the reactor promises about callbacks.</summary>
internal sealed class ModelHandler(int id) : IEventHandler
{
    private readonly byte[] _buffer = new byte[4096];

    public ConcurrentQueue<(CloseReason Reason, Exception? Error)> Closes { get; } = new();

    public List<string> Violations { get; } = new();

    public bool ThrowNext { get; set; }

    public bool Threw { get; set; }

    /// <summary>Run once, at the start of the next readiness callback (after its checks).</summary>
    public Action? NextAction { get; set; }

    public void OnReadable(Registration registration)
    {
        Check(registration, Interest.Read, "OnReadable");
        while (true)
        {
            int n = registration.Socket.Receive(_buffer, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success || n == 0)
            {
                break;
            }
        }
    }

    public void OnWritable(Registration registration) => Check(registration, Interest.Write, "OnWritable");

    public void OnError(Registration registration) => Check(registration, Interest.Error, "OnError");

    public void OnClosed(Registration registration, CloseReason reason, Exception? error)
    {
        if (registration.IsActive)
        {
            Violations.Add($"reg {id}: IsActive inside OnClosed");
        }

        Closes.Enqueue((reason, error));
    }

    private void Check(Registration registration, Interest bit, string callback)
    {
        if (!Closes.IsEmpty)
        {
            Violations.Add($"reg {id}: {callback} after OnClosed");
        }

        if ((registration.Interest & bit) == 0)
        {
            Violations.Add($"reg {id}: {callback} while interest is {registration.Interest}");
        }

        if (!registration.IsActive)
        {
            Violations.Add($"reg {id}: {callback} on an inactive registration");
        }

        Action? next = NextAction;
        NextAction = null;
        next?.Invoke();

        if (ThrowNext)
        {
            ThrowNext = false;
            Threw = true;
            throw new ModelHandlerException($"reg {id} throws from {callback} on purpose");
        }
    }
}
