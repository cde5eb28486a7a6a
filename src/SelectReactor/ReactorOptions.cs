using System;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace SelectReactor;

/// <summary>Settings for a <see cref="Reactor"/>. Read once, when the reactor is constructed.</summary>
public sealed class ReactorOptions
{
    /// <summary>The longest <see cref="MaxSelectTimeout"/> accepted: <see cref="int.MaxValue"/> microseconds (about 35 minutes), the most <see cref="System.Net.Sockets.Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/> can wait.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMicroseconds(int.MaxValue);

    private TimeProvider _timeProvider = TimeProvider.System;
    /// <summary>The default <see cref="MaxSelectTimeout"/>: 5 seconds.</summary>
    internal static readonly TimeSpan DefaultMaxSelectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The longest period between two checks of the sockets that watch nothing: 1 second.</summary>
    internal static readonly TimeSpan IdleCheckPeriod = TimeSpan.FromSeconds(1);

    private TimeSpan _maxSelectTimeout = DefaultMaxSelectTimeout;
    private TimeSpan _maxColdSocketDelay = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// Where the reactor, and the servers, connections and endpoints on it, log. Default <see langword="null"/>:
    /// warnings and errors (a handler that threw, a dead socket evicted, accept out of descriptors, a peer that does
    /// not read) go to standard error, one line each, so that no fault goes unseen; nothing below Warning is written.
    /// Pass <c>NullLoggerFactory.Instance</c> to log nothing at all.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock behind timers. Default <see cref="TimeProvider.System"/>; tests may pass a fake one.</summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set => _timeProvider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// The longest one tick of <see cref="Reactor.Run"/> waits in <c>Socket.Select</c> when no timer is due sooner.
    /// Default 5 seconds. Any positive value up to <see cref="MaxTimeout"/>, or <see cref="Timeout.InfiniteTimeSpan"/>
    /// to wait until a socket, a timer or a cross-thread call wakes the reactor. Sub-millisecond values are rounded
    /// up to a whole millisecond (the resolution <c>Socket.Select</c> honours).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Nothing the reactor promises depends on this value: sockets, timers and cross-thread calls wake it whenever
    /// they need to. It bounds how long an idle reactor sleeps, and each wake-up of an idle reactor is one select over
    /// every socket (about 1 ms per 1,000 sockets of one core's time): with 10,000 idle connections, waking every
    /// second cost about 1% of a core, every 5 seconds about 0.2%.
    /// </para>
    /// <para>
    /// The sockets of registrations that watch nothing (<see cref="Interest.None"/>) are in no select list; the
    /// reactor checks them once per this value or once a second, whichever is shorter, so one disposed behind the
    /// reactor's back is closed with <see cref="CloseReason.DeadSocket"/> within a second. The check runs only while
    /// such registrations exist.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative (other than infinite) or above <see cref="MaxTimeout"/>.</exception>
    public TimeSpan MaxSelectTimeout
    {
        get => _maxSelectTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan && (value <= TimeSpan.Zero || value > MaxTimeout))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"MaxSelectTimeout must be positive and at most ReactorOptions.MaxTimeout ({MaxTimeout}), or Timeout.InfiniteTimeSpan; the default is 5 seconds.");
            }

            _maxSelectTimeout = value;
        }
    }

    /// <summary>
    /// The longest a socket that has been idle for a while may wait, while the loop is busy, before the reactor
    /// notices it is ready. Default 40 milliseconds. <see cref="TimeSpan.Zero"/> turns this off: every socket is in
    /// every select, as a plain select loop does. Otherwise between 1 millisecond and 10 seconds.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A select costs what it polls, every registered socket, however few are active: with 10,000 idle connections
    /// a naive loop polls 10,000 sockets per tick and serves the active ones at a few percent of its speed. So a
    /// registration with no event for a second goes cold: it leaves the per-tick select and is polled in small slices
    /// (zero-timeout selects of at most 79 sockets, which allocate nothing), a pass over all cold sockets spread over a
    /// pace that keeps cold polling near a tenth of a busy loop, never longer than this value and never shorter than
    /// 10 ms (10,000 idle sockets: 35-40 ms). Any event, and any interest change, makes it hot again (back to cold
    /// within half a second unless it has another event). Listening sockets and registrations watching for
    /// writability never go cold.
    /// </para>
    /// <para>
    /// When the loop has had nothing to do for a whole pace and nothing is due for three more, it waits in one select
    /// over every socket instead, so an idle server costs what it always did and sees any socket at once. Nothing is
    /// lost either way: a cold socket's events are delayed, by at most this value while the reactor thread gets the
    /// CPU (and a millisecond or two more, as waits are rounded up to whole milliseconds), never dropped, and a cold
    /// socket disposed behind the reactor's back is evicted within the same bound.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, between zero and 1 millisecond, or above 10 seconds.</exception>
    public TimeSpan MaxColdSocketDelay
    {
        get => _maxColdSocketDelay;
        set
        {
            if (value != TimeSpan.Zero && (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromSeconds(10)))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"MaxColdSocketDelay must be zero (every socket in every select) or between 1 ms and 10 s; the default is 40 ms.");
            }

            _maxColdSocketDelay = value;
        }
    }

    /// <summary>
    /// A name for the reactor, in its log messages and as the <c>selectreactor.reactor.name</c> tag of its metrics.
    /// Default <see langword="null"/>, which names it "reactor". A <see cref="Reactor"/> starts no thread; a
    /// <see cref="ReactorGroup"/> names each of its reactors, and the thread running it, "<c>{Name}-{index}</c>".
    /// </summary>
    public string? Name { get; set; }

    /// <summary>Every setting, under another name: what each reactor of a group runs with.</summary>
    internal ReactorOptions CopyNamed(string name)
    {
        var copy = (ReactorOptions)MemberwiseClone();
        copy.Name = name;
        return copy;
    }
}
