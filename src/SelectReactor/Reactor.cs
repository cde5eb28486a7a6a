using System;
using System.Collections;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SelectReactor;

/// <summary>
/// A single-threaded event loop over <see cref="Socket.Select(IList, IList, IList, int)"/>. Each tick it runs queued
/// work and due timers, waits for readiness on its registered sockets, and dispatches readable, writable and error
/// callbacks to their handlers, all on the thread running <see cref="Run"/> or <see cref="RunOnce"/>.
/// </summary>
/// <remarks>
/// <para>
/// When <c>Socket.Select</c> fails because one registered socket died (for example it was disposed while
/// registered), the reactor probes each socket alone, evicts exactly the dead ones with
/// <see cref="CloseReason.DeadSocket"/>, and carries on serving the others in the same tick.
/// </para>
/// <para>
/// A select costs what it polls, so sockets with no event for a second leave the per-tick select and are polled in
/// small slices at a pace that keeps them to about a tenth of a busy loop; their readiness is noticed within
/// <see cref="ReactorOptions.MaxColdSocketDelay"/> (40 ms by default), and at once when the loop is otherwise idle.
/// </para>
/// <para>
/// Thread rules: <see cref="Register(Socket, IEventHandler, Interest)"/>, <see cref="Registration.Interest"/>,
/// <see cref="Registration.Dispose"/>, <see cref="Post(Action)"/>, <see cref="Schedule"/>, <see cref="Stop"/> and
/// <see cref="Dispose"/> are safe from any thread. Calls from other threads are queued and wake the reactor at once.
/// </para>
/// </remarks>
public sealed partial class Reactor : IDisposable
{
    /// <summary>How many consecutive <c>Socket.Select</c> failures with no dead socket to blame make the loop throw.</summary>
    internal const int MaxConsecutiveSelectFailures = 5;

    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxSelectTimeout;
    private readonly WakeupSocket _wakeup;
    private readonly long _idleCheckPeriod;

    // Lifecycle: guards the loop owner, disposal and the queue's closing.
    private readonly Lock _lifecycleLock = new();
    private readonly ManualResetEventSlim _loopIdle = new(initialState: true);
    private int _loopThreadId;
    private bool _disposed;
    private bool _shutDown;
    private int _registrationCount;
    private byte[] _receiveBuffer = [];

    // Every registration, in its tier (hot: selected every tick; cold: polled in slices), and the lists handed to
    // Socket.Select. Reactor thread only.
    private readonly SocketTiers _tiers;
    private readonly SelectSets _sets = new(16);
    private readonly DeadSocketProbe _probe = new();

    // OnClosed notifications wait here until the running callback returns, so they never re-enter a handler.
    private readonly Queue<(Registration Registration, CloseReason Reason, Exception? Error)> _pendingCloses = new();

    /// <summary>Creates a reactor. It does nothing until <see cref="Run"/> or <see cref="RunOnce"/> is called.</summary>
    /// <param name="options">Settings; <see langword="null"/> takes every default.</param>
    /// <exception cref="SocketException">The loopback wake-up socket could not be created.</exception>
    public Reactor(ReactorOptions? options = null)
    {
        options ??= new ReactorOptions();
        _loggerFactory = options.LoggerFactory ?? StandardErrorLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("SelectReactor.Reactor");
        _name = options.Name ?? "reactor";
        MetricTag = ReactorMetrics.Reactor(_name);
        _time = options.TimeProvider;
        _maxSelectTimeout = options.MaxSelectTimeout;
        _idleCheckPeriod = TimeSpanToTimestamp(_maxSelectTimeout == Timeout.InfiniteTimeSpan || _maxSelectTimeout > ReactorOptions.IdleCheckPeriod
            ? ReactorOptions.IdleCheckPeriod
            : _maxSelectTimeout);
        _wakeup = new WakeupSocket();

        // Real time, not the timer clock: a fake clock that stands still must not stop cold sockets being polled.
        _tiers = new SocketTiers(TimeProvider.System, ColdAfter, MinColdPace, options.MaxColdSocketDelay, ColdShare);
    }

    /// <summary>The reactor's name from <see cref="ReactorOptions.Name"/>, or "reactor".</summary>
    public string Name => _name;

    /// <summary>
    /// <see langword="true"/> when called from inside <see cref="Run"/> or <see cref="RunOnce"/> on this reactor,
    /// that is from one of its callbacks. Between <see cref="RunOnce"/> calls no thread is the reactor thread.
    /// </summary>
    public bool IsOnReactorThread => Volatile.Read(ref _loopThreadId) == Environment.CurrentManagedThreadId;

    /// <summary>The registrations that are active or queued: incremented by Register, decremented when one is closed.</summary>
    public int RegistrationCount => Volatile.Read(ref _registrationCount);

    /// <summary>
    /// The reactor's receive buffer, at least <paramref name="minimumSize"/> bytes, shared by everything that reads on
    /// this reactor: callbacks never overlap, so one buffer serves every connection and idle ones hold none. Valid
    /// until the next call. Reactor thread only.
    /// </summary>
    internal byte[] ReceiveBuffer(int minimumSize)
    {
        if (_receiveBuffer.Length < minimumSize)
        {
            _receiveBuffer = new byte[minimumSize];
        }

        return _receiveBuffer;
    }

    /// <summary>The tag that names this reactor on every measurement.</summary>
    internal KeyValuePair<string, object?> MetricTag { get; }

    /// <summary>The clock behind the reactor's timers, for the layers built on it.</summary>
    internal TimeProvider TimeProvider => _time;

    /// <summary>Creates a logger for a layer built on this reactor (a null logger when none was configured).</summary>
    internal ILogger CreateLogger(string category) => _loggerFactory?.CreateLogger(category) ?? NullLogger.Instance;

    /// <summary>The seam around <c>Socket.Select</c>; tests replace it to inject faults.</summary>
    internal SelectCall SelectImplementation { get; set; } = Socket.Select;

    /// <summary>
    /// Registers a socket and sets it non-blocking. Safe from any thread; from another thread the registration takes
    /// effect at the reactor's next tick (the reactor is woken).
    /// </summary>
    /// <param name="socket">The socket to watch. The reactor never disposes it.</param>
    /// <param name="handler">Receives the socket's callbacks on the reactor thread.</param>
    /// <param name="interest">The events to watch; may be changed later through <see cref="Registration.Interest"/>.</param>
    /// <returns>The registration; dispose it to unregister.</returns>
    /// <remarks>
    /// A socket has at most one active registration in the process: registered with two reactors, two threads would
    /// read it at once. The check is one lookup in a process-wide table (and one removal when the registration ends).
    /// The socket is free again as soon as <see cref="Registration.Dispose"/> returns, even while the unregistration
    /// is still queued for the reactor thread.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> or <paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interest"/> has unknown bits.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="socket"/> has an active registration, with this or any other reactor.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed. (From its own callbacks: its shutdown has begun; a
    /// registration made in its last tick is taken and closed with <see cref="CloseReason.ReactorDisposed"/>.)</exception>
    public Registration Register(Socket socket, IEventHandler handler, Interest interest)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(handler);
        Registration.ValidateInterest(interest, nameof(interest));
        bool onThread = IsOnReactorThread;
        ObjectDisposedException.ThrowIf(RefusesRegistration(onThread), this);

        try
        {
            socket.Blocking = false;
        }
        catch (ObjectDisposedException e)
        {
            throw new ArgumentException("The socket is disposed.", nameof(socket), e);
        }

        var registration = new Registration(this, socket, handler, interest);
        lock (_lifecycleLock)
        {
            ObjectDisposedException.ThrowIf(RefusesRegistration(onThread), this);
            if (registration.ClaimSocket() is { } owner)
            {
                throw new InvalidOperationException(
                    $"The socket is already registered with reactor '{owner.Reactor.Name}'{(owner.Reactor == this ? " (this one)" : "")}: a socket can have one active registration at a time. Dispose that registration first.");
            }

            Interlocked.Increment(ref _registrationCount);
            if (ReactorMetrics.ActiveRegistrations.Enabled)
            {
                ReactorMetrics.ActiveRegistrations.Add(1, MetricTag);
            }

            if (!onThread)
            {
                // Enqueued under the lock so that Dispose, which closes the queue under the same lock, sees it.
                _queue.Enqueue(new WorkItem(RegisterOperation.Instance, registration));
            }
        }

        if (onThread)
        {
            AddToTable(registration);
        }
        else
        {
            WakeIfRunningElsewhere();
        }

        return registration;
    }

    /// <summary>
    /// Registers a socket with delegate callbacks instead of an <see cref="IEventHandler"/>. The delegates are
    /// wrapped once, here; events allocate nothing.
    /// </summary>
    /// <param name="socket">The socket to watch. The reactor never disposes it.</param>
    /// <param name="interest">The events to watch.</param>
    /// <param name="onReadable">Called when the socket is readable, or <see langword="null"/>.</param>
    /// <param name="onWritable">Called when the socket is writable, or <see langword="null"/>.</param>
    /// <param name="onError">Called when the socket is in the error list, or <see langword="null"/>.</param>
    /// <param name="onClosed">Called once when the registration ends, or <see langword="null"/>.</param>
    /// <returns>The registration; dispose it to unregister.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interest"/> has unknown bits.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="socket"/> has an active registration, with this or any other reactor.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public Registration Register(
        Socket socket,
        Interest interest,
        Action<Registration>? onReadable = null,
        Action<Registration>? onWritable = null,
        Action<Registration>? onError = null,
        Action<Registration, CloseReason, Exception?>? onClosed = null)
    {
        return Register(socket, new DelegateEventHandler(onReadable, onWritable, onError, onClosed), interest);
    }

    /// <summary>
    /// Stops the loop and closes every registration with <see cref="CloseReason.ReactorDisposed"/>. Safe from any
    /// thread and idempotent. From another thread while <see cref="Run"/> is going, it waits for the loop to finish
    /// its current tick and clean up; from inside a callback, cleanup happens as the loop returns. Posted actions
    /// that have not run are dropped, and so are timers and actions that callbacks still running as it ends (the
    /// rest of that tick, the OnClosed calls) schedule or post: those calls do not throw.
    /// </summary>
    public void Dispose()
    {
        int owner;
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            owner = _loopThreadId;
        }

        if (owner == Environment.CurrentManagedThreadId)
        {
            // Inside a callback: the loop sees _disposed, returns, and shuts down on its way out.
            return;
        }

        if (owner != 0)
        {
            _backoff.Set();
            _wakeup.Wake();
        }

        // Wait for a running loop to leave; it shuts down on the way out. If none was running, shut down here.
        _loopIdle.Wait();
        ShutDownOnce();
    }

    internal void OnInterestChanged(Registration registration)
    {
        if (IsOnReactorThread)
        {
            // A change is activity: a cold registration is hot again at once (and one that now waits to write must
            // be), so the next fill reads the new interest in the per-tick select.
            if (registration.Cold)
            {
                _tiers.Promote(registration, _tickNow);
            }
            else
            {
                registration.LastActive = _tickNow;
            }

            _sets.MarkDirty();
            return;
        }

        // Elsewhere the select may be long: flag it for the rebuild, which finds it among the cold ones, and wake.
        _tiers.InterestChangedElsewhere(registration);
        _sets.MarkDirty();
        WakeIfRunningElsewhere();
    }

    internal void Unregister(Registration registration)
    {
        if (IsOnReactorThread)
        {
            Close(registration, CloseReason.Unregistered, null);
            return;
        }

        lock (_lifecycleLock)
        {
            if (_shutDown)
            {
                // Already closed by the shutdown, which closes every registration.
                return;
            }

            _queue.Enqueue(new WorkItem(UnregisterOperation.Instance, registration));
        }

        WakeIfRunningElsewhere();
    }

    /// <summary>
    /// Sends the wake-up datagram only when a loop is running on another thread. With no loop running the next tick
    /// drains the queue before it selects anyway, so a datagram would only cost it a receive (about 4 µs measured).
    /// </summary>
    /// <remarks>
    /// The caller has already queued its work or stored its change (both full fences), and <see cref="EnterLoop"/>
    /// publishes the owner with a full fence before the loop drains: either we see the owner and wake it, or the
    /// loop's first drain sees the work.
    /// </remarks>
    private void WakeIfRunningElsewhere()
    {
        int owner = Volatile.Read(ref _loopThreadId);
        if (owner != 0 && owner != Environment.CurrentManagedThreadId)
        {
            _wakeup.Wake();
        }
    }

    private void AddToTable(Registration registration)
    {
        if (registration.State != Registration.StateActive)
        {
            // Disposed before the queued registration reached the reactor: it still gets its one OnClosed.
            Close(registration, CloseReason.Unregistered, null);
            return;
        }

        _tiers.Add(registration, _tickNow);
        _sets.MarkDirty();
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // Read while the socket surely lives, so the line about its closing can name it even if it died first.
            SocketDescription.Remember(registration);
            Log.Registered(_logger, _name, registration);
        }
    }

    /// <summary>
    /// Ends a registration: out of the table at once, OnClosed queued for the next safe point. The first reason wins.
    /// Reactor thread (or shutdown) only.
    /// </summary>
    private void Close(Registration registration, CloseReason reason, Exception? error)
    {
        if (!registration.MarkClosed())
        {
            return;
        }

        if (registration.Slot >= 0)
        {
            _tiers.Remove(registration, _tickNow);
            _sets.MarkDirty();
        }

        Interlocked.Decrement(ref _registrationCount);
        if (ReactorMetrics.ActiveRegistrations.Enabled)
        {
            ReactorMetrics.ActiveRegistrations.Add(-1, MetricTag);
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // OnClosed comes later, often after the owner has disposed the socket: read its end points now.
            SocketDescription.Remember(registration);
        }

        _pendingCloses.Enqueue((registration, reason, error));
    }

    /// <summary>Delivers queued OnClosed notifications. Called between callbacks, never inside one.</summary>
    private void DeliverCloses()
    {
        while (_pendingCloses.TryDequeue(out var closed))
        {
            Registration registration = closed.Registration;
            Log.RegistrationClosed(_logger, _name, registration, closed.Reason);

            _dispatched++;
            try
            {
                registration.Handler.OnClosed(registration, closed.Reason, closed.Error);
            }
            catch (Exception e)
            {
                // A faulty OnClosed is the handler's bug; the registration is over anyway, so log and go on.
                Log.ClosedCallbackFault(_logger, _name, registration, e);
            }

            EndOfCallback();
        }
    }

    /// <summary>Closes everything once the loop is gone. Runs on the thread that finished the loop or disposed.</summary>
    private void ShutDownOnce()
    {
        lock (_lifecycleLock)
        {
            if (_shutDown || _loopThreadId != 0)
            {
                return;
            }

            _shutDown = true;

            // Act as the reactor thread while closing, so OnClosed handlers that touch the reactor apply directly.
            _loopThreadId = Environment.CurrentManagedThreadId;
        }

        // Everything not yet closed, queued or in the table, is closed below; nothing can register meanwhile.
        int open = Volatile.Read(ref _registrationCount);
        int dropped = 0;
        try
        {
            dropped = DropQueue();
            while (_tiers.Count > 0)
            {
                Close(_tiers.Last, CloseReason.ReactorDisposed, null);
            }

            DeliverCloses();

            // OnClosed handlers may have queued more (a Close arming its timer, a connection's last notification):
            // drop that too, until the queue can close empty.
            while (!TryCloseQueue())
            {
                dropped += DropQueue();
                DeliverCloses();
            }

            _timers.Clear();
        }
        finally
        {
            Volatile.Write(ref _loopThreadId, 0);
            _wakeup.Dispose();
            int closed = open - Volatile.Read(ref _registrationCount);
            Log.Disposed(_logger, _name, closed, dropped);
        }
    }
}
