using System;
using System.Diagnostics;

namespace SelectReactor;

/// <summary>
/// The registrations that have been quiet for a while: not in the per-tick select, but polled with zero-timeout
/// selects of at most <see cref="SliceSize"/> sockets, a pass over all of them spread evenly over
/// <see cref="Pace"/>. The pace adapts to what polling costs: the measured cost of a pass divided by the share of
/// the loop it may take, at least a floor, and short enough that no socket waits longer than the bound between two
/// polls. Reactor thread only.
/// </summary>
/// <remarks>
/// <para>
/// Order: <c>[0, cursor)</c> has been polled in this pass, <c>[cursor, count)</c> not yet. Socket <c>i</c> is due
/// <c>pace × (i + 1) / denominator</c> into the pass and is polled with the slice that holds it once the whole slice
/// is due (a call costs a few microseconds whatever its size). Removal keeps every socket on its side of the cursor
/// and only ever moves one to an earlier place; the denominator is the larger of this pass's and the last pass's
/// count at their start. So between two polls of one socket at most <c>pace × (1 + SliceSize / denominator)</c>
/// passes, and the pace is capped to keep that within the bound; at most one pace when both passes were polled in one
/// tick each (see <see cref="StartPass"/>).
/// </para>
/// <para>
/// Polling cost is measured with <see cref="Stopwatch"/> (real time, whatever clock the tiers use), per socket,
/// smoothed; a slice that took over four times the estimate (the thread was preempted) counts as four times, so the
/// pace follows what polling costs, not what the scheduler did.
/// </para>
/// </remarks>
internal sealed class ColdTier
{
    /// <summary>Sockets per select: the runtime stack-allocates its poll array below 80 entries, and allocates 8 bytes
    /// per socket from 80 (SocketPal.Unix.cs, StackThreshold), so slices of 79 poll without allocating.</summary>
    public const int SliceSize = 79;

    // A first guess of what polling one idle socket costs, before anything is measured (250-420 ns measured on the
    // development machine, see tests/SelectReactor.Benchmarks/RESULTS.md).
    private static readonly double InitialCostPerSocket = 300e-9 * Stopwatch.Frequency;

    private readonly long _minPace;
    private readonly long _bound;
    private readonly double _shareTimesClockPerStopwatch;
    private Registration[] _registrations = new Registration[16];
    private int _count;
    private int _cursor;
    private long _passStart;
    private long _pace;
    private int _startCount;
    private int _denominator = 1;
    private long _firstPoll = long.MinValue;
    private double _costPerSocket = InitialCostPerSocket;

    /// <param name="minPace">The shortest pass, in ticks of the tiers' clock.</param>
    /// <param name="bound">The longest a socket may wait between two polls, in ticks of the tiers' clock.</param>
    /// <param name="share">The share of a busy loop cold polling aims at (0.1 = 10%).</param>
    /// <param name="clockFrequency">Ticks per second of the tiers' clock.</param>
    public ColdTier(long minPace, long bound, double share, long clockFrequency)
    {
        _minPace = minPace;
        _bound = bound;
        _shareTimesClockPerStopwatch = clockFrequency / (double)Stopwatch.Frequency / share;
        _pace = Math.Min(minPace, bound);
    }

    public int Count => _count;

    public ReadOnlySpan<Registration> Registrations => _registrations.AsSpan(0, _count);

    /// <summary>Registrations polled in this pass: the next slice starts here.</summary>
    public int Cursor => _cursor;

    /// <summary>How long a whole pass takes now, in ticks of the tiers' clock: the bound on a cold socket's wait.</summary>
    public long Pace => _pace;

    public void Add(Registration registration, long now)
    {
        if (_count == 0)
        {
            StartPass(now, previousAtOnce: true); // nothing cold was waiting
        }

        if (_count == _registrations.Length)
        {
            Array.Resize(ref _registrations, _count * 2);
        }

        registration.Cold = true;
        registration.Slot = _count;
        _registrations[_count++] = registration;
    }

    /// <param name="registration">A cold registration.</param>
    /// <param name="now">The tiers' clock: should the rest all have been polled already, the next pass starts now.</param>
    public void Remove(Registration registration, long now)
    {
        int i = registration.Slot;
        Debug.Assert(registration.Cold && ReferenceEquals(_registrations[i], registration), "a cold registration knows its place");
        if (i < _cursor)
        {
            // Polled in this pass: the last polled one takes its place, the last one overall takes that one's, and
            // the cursor steps back, so the unpolled ones stay unpolled.
            Move(_cursor - 1, i);
            Move(_count - 1, _cursor - 1);
            _cursor--;
        }
        else
        {
            Move(_count - 1, i);
        }

        _registrations[--_count] = null!;
        registration.Cold = false;
        registration.Slot = -1;
        if (_count > 0 && _cursor >= _count)
        {
            // The unpolled ones are gone and the rest were polled in this pass: it is over. Left as it was, no slice
            // would ever be due again (and the wait until the next one would stay zero) until a socket went cold.
            StartPass(now, previousAtOnce: false);
        }
    }

    /// <summary>
    /// How many sockets of this pass are due by <paramref name="now"/> beyond those polled: the pass is spread evenly
    /// over the pace. Whole slices only (a call costs a few microseconds whatever its size), apart from the last.
    /// </summary>
    public int Due(long now)
    {
        if (_count == 0)
        {
            return 0;
        }

        long elapsed = now - _passStart;
        long target = elapsed >= _pace ? _count : Math.Min(_count, _denominator * elapsed / _pace);
        int due = (int)(target - _cursor);
        return due >= Math.Min(SliceSize, _count - _cursor) ? due : 0;
    }

    /// <summary>When the next slice is due, in ticks of the tiers' clock; <see cref="long.MaxValue"/> with nothing cold.</summary>
    public long NextDue()
    {
        if (_count == 0)
        {
            return long.MaxValue;
        }

        long needed = Math.Min(_cursor + SliceSize, _count);
        return _passStart + Math.Min(_pace, ((_pace * needed) + _denominator - 1) / _denominator);
    }

    /// <summary>
    /// Fills the slice lists with the next registrations of the pass, at most <see cref="SliceSize"/> entries
    /// across both lists. Returns how many registrations it took (pass it to <see cref="Polled"/>). Take a slice only
    /// while <see cref="Due"/> says one is due, asking again after each: it counts whole slices, so no socket is
    /// polled before its time (polled early in one pass and late in the next, a socket would wait past the bound).
    /// </summary>
    /// <param name="read">The slice's read list.</param>
    /// <param name="error">The slice's error list.</param>
    public int TakeSlice(SelectList read, SelectList error)
    {
        read.Clear();
        error.Clear();
        int taken = 0;
        while (_cursor + taken < _count)
        {
            Registration registration = _registrations[_cursor + taken];
            int entries = ((registration.InterestBits & (int)Interest.Read) != 0 ? 1 : 0) + ((registration.InterestBits & (int)Interest.Error) != 0 ? 1 : 0);
            if (read.Count + error.Count + entries > SliceSize)
            {
                break;
            }

            SelectSets.AddByInterest(registration, read, error);
            taken++;
        }

        return taken;
    }

    /// <summary>A slice was polled: advances the pass, learns the cost, and starts the next pass after the last slice.</summary>
    /// <param name="taken">What <see cref="TakeSlice"/> returned.</param>
    /// <param name="entries">Sockets in the select (a registration watching reads and errors counts twice).</param>
    /// <param name="elapsed">The select's duration in <see cref="Stopwatch"/> ticks.</param>
    /// <param name="now">The tiers' clock.</param>
    public void Polled(int taken, int entries, long elapsed, long now)
    {
        _cursor += taken;
        if (_firstPoll == long.MinValue)
        {
            _firstPoll = now;
        }

        if (entries > 0)
        {
            double perSocket = elapsed / (double)entries;
            _costPerSocket += (Math.Min(perSocket, 4 * _costPerSocket) - _costPerSocket) / 16;
        }

        if (_cursor >= _count)
        {
            StartPass(now, previousAtOnce: _firstPoll == now); // the clock only moves on: first slice's tick is the last's
        }
    }

    /// <summary>Every cold socket was just polled (by the select over everything): the next pass starts now.</summary>
    public void Restart(long now) => StartPass(now, previousAtOnce: true);

    /// <param name="now">The tiers' clock.</param>
    /// <param name="previousAtOnce">Whether every socket in the tier was last polled at one moment (in one tick).</param>
    private void StartPass(long now, bool previousAtOnce)
    {
        _cursor = 0;
        _passStart = now;
        _firstPoll = long.MinValue;
        int previous = _startCount;
        _startCount = _count;
        _denominator = Math.Max(1, Math.Max(_count, previous));

        // As slow as the share allows, at least the floor, and within the bound. A pass polled over several ticks
        // needs a slice's worth of slack: a socket polled early in one pass may be polled late in the next. A pass of
        // one slice (a registration takes up to two entries) is polled in one tick; when the last pass was too, every
        // socket was polled just as this pass began, will be again within the pace, and the whole bound is available.
        long cap = previousAtOnce && _denominator <= SliceSize / 2 ? _bound : _bound * _denominator / (_denominator + SliceSize);
        double wanted = _costPerSocket * _count * _shareTimesClockPerStopwatch;
        _pace = Math.Max(1, wanted >= cap ? cap : Math.Min(cap, Math.Max(_minPace, (long)wanted)));
    }

    private void Move(int from, int to)
    {
        if (from != to)
        {
            Registration moved = _registrations[from];
            _registrations[to] = moved;
            moved.Slot = to;
        }
    }
}
