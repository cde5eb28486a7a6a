using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// One socket registered with a <see cref="Reactor"/>, together with its handler and the events it watches.
/// Created by <see cref="Reactor.Register(Socket, IEventHandler, SelectReactor.Interest)"/>.
/// </summary>
/// <remarks>
/// <see cref="Dispose"/> unregisters the socket (its handler then receives <see cref="IEventHandler.OnClosed"/> with
/// <see cref="CloseReason.Unregistered"/>); it does not close the socket, which stays the caller's to dispose.
/// </remarks>
public sealed class Registration : IDisposable
{
    internal const int StateActive = 0;
    internal const int StateDisposeRequested = 1;
    internal const int StateClosed = 2;

    private const int AllInterest = (int)(Interest.Read | Interest.Write | Interest.Error);

    // Process-wide: the active registration that owns each socket, so that one socket is never watched by two
    // registrations (two reactor threads would both read it). One lookup when registering and one removal when the
    // registration stops being active; the dictionary's striped locks keep reactors on different threads apart.
    // Entries are removed as registrations end, and a disposed reactor ends all of its registrations.
    private static readonly ConcurrentDictionary<Socket, Registration> s_owners = new(ReferenceEqualityComparer.Instance);

    private volatile int _interest;
    private volatile int _state;

    /// <summary>Index in the reactor's hot or cold tier (see <see cref="Cold"/>), or -1 while in neither. Reactor thread only.</summary>
    internal int Slot = -1;

    /// <summary>In the cold tier: polled in slices, not every tick (see SocketTiers). Reactor thread only.</summary>
    internal bool Cold;

    /// <summary>When the registration last had an event or an interest change, on the tiers' clock. Reactor thread only.</summary>
    internal long LastActive;

    /// <summary>Whether the socket listens: 0 not asked yet, 1 yes (never goes cold), 2 no. Reactor thread only.</summary>
    internal byte Listening;

    /// <summary>Set when the interest was changed off the reactor thread, so a cold registration is found and made hot.</summary>
    internal volatile bool InterestChanged;

    /// <summary>
    /// The socket's end points as last read while it lived ("local -> remote"), for log lines written after it died.
    /// Read only while debug logging is on; otherwise null.
    /// </summary>
    internal string? EndPoints;

    internal Registration(Reactor reactor, Socket socket, IEventHandler handler, Interest interest)
    {
        Reactor = reactor;
        Socket = socket;
        Handler = handler;
        _interest = (int)interest;
    }

    /// <summary>The registered socket.</summary>
    public Socket Socket { get; }

    /// <summary>The handler that receives this registration's callbacks.</summary>
    public IEventHandler Handler { get; }

    /// <summary>The reactor this registration belongs to.</summary>
    public Reactor Reactor { get; }

    /// <summary>
    /// The events watched. Safe from any thread: a change made on the reactor thread applies before the next
    /// <c>Socket.Select</c>; a change from another thread wakes the reactor so it applies at once. Setting it on a
    /// registration that is no longer active does nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value has bits other than <see cref="Interest.Read"/>, <see cref="Interest.Write"/> and <see cref="Interest.Error"/>.</exception>
    public Interest Interest
    {
        get => (Interest)_interest;
        set
        {
            ValidateInterest(value, nameof(value));
            if (_interest == (int)value || _state != StateActive)
            {
                return;
            }

            _interest = (int)value;
            Reactor.OnInterestChanged(this);
        }
    }

    /// <summary>
    /// <see langword="true"/> until the registration is disposed or closed by the reactor. Once it is
    /// <see langword="false"/> no new readiness callback starts.
    /// </summary>
    public bool IsActive => _state == StateActive;

    internal int InterestBits => _interest;

    internal int State => _state;

    /// <summary>Unregisters the socket. Safe from any thread and idempotent. Does not close the socket.</summary>
    /// <remarks>
    /// On the reactor thread the registration leaves the select lists at once and <see cref="IEventHandler.OnClosed"/>
    /// follows as soon as the current callback returns. From another thread the request is queued and the reactor
    /// woken; no callback of this registration starts after Dispose returns, apart from that one OnClosed. Either way
    /// the socket may be registered again, with this or any reactor, as soon as Dispose returns: calls made in order
    /// on one thread take effect in that order.
    /// </remarks>
    public void Dispose()
    {
        if (Interlocked.CompareExchange(ref _state, StateDisposeRequested, StateActive) == StateActive)
        {
            // Queued before the socket is released, so a Register of the same socket that follows lands behind it.
            Reactor.Unregister(this);
            ReleaseSocket();
        }
    }

    /// <summary>
    /// Makes this registration the socket's owner, or returns the active registration that owns it already.
    /// </summary>
    internal Registration? ClaimSocket()
    {
        Registration owner = s_owners.GetOrAdd(Socket, this);
        return ReferenceEquals(owner, this) ? null : owner;
    }

    /// <summary>Marks the registration closed. Returns false when it was closed already. Reactor thread only.</summary>
    internal bool MarkClosed()
    {
        // An exchange, because Dispose may move the state on another thread at the same time: whichever of the two
        // sees the registration leave the active state releases the socket, exactly once.
        int previous = Interlocked.Exchange(ref _state, StateClosed);
        if (previous == StateActive)
        {
            ReleaseSocket();
        }

        return previous != StateClosed;
    }

    /// <summary>Frees the socket for a new registration; only the entry of this registration is removed.</summary>
    private void ReleaseSocket() => s_owners.TryRemove(new KeyValuePair<Socket, Registration>(Socket, this));

    internal static void ValidateInterest(Interest interest, string paramName)
    {
        if (((int)interest & ~AllInterest) != 0)
        {
            throw new ArgumentOutOfRangeException(paramName, interest, "Interest may only combine Read, Write and Error.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"Registration({SocketDescription.Describe(Socket)}, {Interest}, {(IsActive ? "active" : "inactive")})";
}
