using System;
using System.Net.Sockets;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// Where each registration is polled. Hot: every tick, in the select that may block. Cold: no event for a while
/// (one second in the reactor), so polled in slices by the <see cref="ColdTier"/>, at least once per its pace (the
/// bound, at most <c>ReactorOptions.MaxColdSocketDelay</c>). Any event, and any interest change, makes a cold
/// registration hot again, on probation: unless it has another event, it goes back after a quarter of the idle period
/// (one sweep), not the whole period, so a socket that wakes once (a keep-alive, one request) does not sit in every
/// tick's select for a second. What never goes cold: registrations watching for
/// writability (a socket waiting to drain is busy by definition), listening sockets (a connection waiting to be
/// accepted is never delayed), and registrations watching nothing (checked on their own). Reactor thread only,
/// unless said otherwise.
/// </summary>
/// <remarks>
/// The clock is real time (<see cref="TimeProvider.System"/> in the reactor), never the reactor's configurable timer
/// clock: a fake clock that stands still must not stop cold sockets from being polled.
/// </remarks>
internal sealed class SocketTiers
{
    /// <summary>
    /// A blocking select over N sockets costs about three zero-timeout passes over them (it joins every socket's wait
    /// queue and leaves it again: 940 ns a socket against 350-420 ns, tests/SelectReactor.Benchmarks/RESULTS.md), so
    /// it replaces a wait's slices only when the wait spans about three paces or more. Shorter waits (a timer every
    /// 50 ms, say) poll slices: a tenth of the loop, not a quarter.
    /// </summary>
    public const int EverythingAfterPaces = 3;

    private readonly TimeProvider _clock;
    private readonly long _coldAfter;
    private readonly long _sweepPeriod;
    private Registration[] _hot = new Registration[16];
    private int _hotCount;
    private long _nextSweep;
    private long _lastEvent;
    private int _changedElsewhere;

    /// <param name="clock">Real time in the reactor; tests pass a clock they move.</param>
    /// <param name="coldAfter">How long without an event makes a registration cold.</param>
    /// <param name="minPace">The shortest pass over the cold tier.</param>
    /// <param name="maxPace">The bound on a cold socket's wait between two polls. Zero: nothing ever goes cold.</param>
    /// <param name="share">The share of a busy loop that cold polling aims at.</param>
    public SocketTiers(TimeProvider clock, TimeSpan coldAfter, TimeSpan minPace, TimeSpan maxPace, double share)
    {
        _clock = clock;
        Enabled = maxPace > TimeSpan.Zero;
        _coldAfter = ToTicks(coldAfter);
        _sweepPeriod = Math.Max(1, _coldAfter / 4);
        Cold = new ColdTier(ToTicks(minPace), ToTicks(maxPace), share, clock.TimestampFrequency);
        _nextSweep = clock.GetTimestamp() + _sweepPeriod;
    }

    /// <summary>False when tiering is off (<c>MaxColdSocketDelay</c> zero): every registration stays hot.</summary>
    public bool Enabled { get; }

    public ColdTier Cold { get; }

    public ReadOnlySpan<Registration> Hot => _hot.AsSpan(0, _hotCount);

    /// <summary>Every registration, hot and cold.</summary>
    public int Count => _hotCount + Cold.Count;

    /// <summary>The tiers' clock, read once per tick.</summary>
    public long Now() => _clock.GetTimestamp();

    /// <summary>The last registration (cold ones last), for closing them all from the end.</summary>
    public Registration Last => Cold.Count > 0 ? Cold.Registrations[^1] : _hot[_hotCount - 1];

    /// <summary>A registration joins: hot, as if it just had an event.</summary>
    public void Add(Registration registration, long now)
    {
        if (_hotCount == _hot.Length)
        {
            Array.Resize(ref _hot, _hotCount * 2);
        }

        registration.Cold = false;
        registration.Slot = _hotCount;
        registration.LastActive = now;
        _hot[_hotCount++] = registration;
    }

    /// <param name="registration">A registration in either tier.</param>
    /// <param name="now">The tiers' clock (see <see cref="ColdTier.Remove"/>).</param>
    public void Remove(Registration registration, long now)
    {
        if (registration.Cold)
        {
            Cold.Remove(registration, now);
            return;
        }

        int slot = registration.Slot;
        Registration last = _hot[--_hotCount];
        _hot[slot] = last;
        last.Slot = slot;
        _hot[_hotCount] = null!;
        registration.Slot = -1;
    }

    /// <summary>
    /// A cold registration had an event or changed its interest: hot again, on probation (its last activity dated
    /// so that, with no further event, it counts as quiet a quarter of the idle period from now). The caller rebuilds
    /// the hot lists.
    /// </summary>
    public void Promote(Registration registration, long now)
    {
        Cold.Remove(registration, now);
        Add(registration, now);
        registration.LastActive = now - _coldAfter + _sweepPeriod;
    }

    /// <summary>The time until the next cold slice is due, in <see cref="TimeSpan"/> ticks (zero or less: due now).</summary>
    public long UntilNextSlice(long now) => _clock.GetElapsedTime(now, Cold.NextDue()).Ticks;

    /// <summary>A socket was found ready: the loop is not quiet.</summary>
    public void NoteEvent(long now) => _lastEvent = now;

    /// <summary>
    /// Whether this wait should be one select over everything: there are cold sockets, nothing was ready for a whole
    /// pace, and the wait may be at least <see cref="EverythingAfterPaces"/> paces long. A loop with nothing to do
    /// then pays one blocking poll per wait (and notices a cold socket at once), instead of waking to poll slices; a
    /// loop that is busy, or whose waits are short (a frequent timer), polls slices and keeps the cost of idle
    /// sockets to its share.
    /// </summary>
    /// <param name="now">The tiers' clock.</param>
    /// <param name="timeoutMicros">The wait the loop would make: -1 unbounded.</param>
    public bool ShouldSelectEverything(long now, int timeoutMicros)
    {
        if (Cold.Count == 0 || now - _lastEvent < Cold.Pace)
        {
            return false;
        }

        return timeoutMicros < 0 || timeoutMicros >= EverythingAfterPaces * _clock.GetElapsedTime(0, Cold.Pace).TotalMicroseconds;
    }

    /// <summary>
    /// Every quarter of the cold-after period, moves the hot registrations that have had no event for that long to
    /// the cold tier. Returns whether any moved (the hot lists then need a rebuild).
    /// </summary>
    public bool DemoteQuiet(long now)
    {
        if (!Enabled || now < _nextSweep)
        {
            return false;
        }

        _nextSweep = now + _sweepPeriod;
        bool wasEmpty = Cold.Count == 0;
        bool moved = false;
        for (int i = _hotCount - 1; i >= 0; i--)
        {
            Registration registration = _hot[i];
            if (now - registration.LastActive >= _coldAfter && MayGoCold(registration))
            {
                Remove(registration, now);
                Cold.Add(registration, now);
                moved = true;
            }
        }

        if (moved && wasEmpty)
        {
            // The pass that the first of them began was paced for an empty tier (so short that the next tick would
            // poll them all at once): pace it for the sockets it has. They were all in the last tick's select.
            Cold.Restart(now);
        }

        return moved;
    }

    /// <summary>An interest change was made off the reactor thread: the next rebuild looks for it among the cold. Any thread.</summary>
    public void InterestChangedElsewhere(Registration registration)
    {
        registration.InterestChanged = true;
        Volatile.Write(ref _changedElsewhere, 1);
    }

    /// <summary>Promotes the cold registrations whose interest was changed off the reactor thread. Returns whether any moved.</summary>
    public bool PromoteChangedElsewhere(long now)
    {
        if (Volatile.Read(ref _changedElsewhere) == 0 || Interlocked.Exchange(ref _changedElsewhere, 0) == 0)
        {
            return false;
        }

        bool moved = false;
        ReadOnlySpan<Registration> cold = Cold.Registrations;
        for (int i = cold.Length - 1; i >= 0; i--)
        {
            Registration registration = cold[i];
            if (registration.InterestChanged)
            {
                registration.InterestChanged = false;
                Promote(registration, now);
                moved = true;
                cold = Cold.Registrations;
            }
        }

        return moved;
    }

    private static bool MayGoCold(Registration registration)
    {
        int interest = registration.InterestBits;
        if (interest == 0 || (interest & (int)Interest.Write) != 0 || registration.State != Registration.StateActive)
        {
            return false;
        }

        if (registration.Listening == 0)
        {
            registration.Listening = IsListening(registration.Socket) ? (byte)1 : (byte)2;
        }

        return registration.Listening == 2;
    }

    /// <summary>Asked once per registration, the first time it could go cold.</summary>
    private static bool IsListening(Socket socket)
    {
        try
        {
            return socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int accepting && accepting != 0;
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Expected for a socket disposed behind the reactor's back: kept hot, where the next select finds it dead.
            return true;
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);
}
