using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// Listens on an IPv4, IPv6 or Unix domain socket end point and runs every accepted connection as a
/// <see cref="TcpConnection"/> on a <see cref="Reactor"/>, with a handler made by a factory.
/// </summary>
/// <remarks>
/// Accepts in bounded batches per readiness; beyond <see cref="TcpServerOptions.MaxConnections"/> new sockets are
/// accepted and closed at once. When accept runs out of descriptors or buffers, the listener is left alone for a
/// back-off period (from <see cref="TcpServerOptions.InitialAcceptBackoff"/>, doubling up to
/// <see cref="TcpServerOptions.MaxAcceptBackoff"/>) instead of spinning on it, and other connections keep working; a
/// few descriptors are held in reserve and freed at that moment, so that the rest of the process (a signal handler's
/// thread, a first-time assembly load) still finds some.
/// <see cref="Start"/>, <see cref="Stop"/> and the counters are safe from any thread.
/// </remarks>
public sealed class TcpServer : IDisposable
{
    private readonly Reactor _reactor;
    private readonly Shard[] _shards;
    private readonly Func<ConnectionHandler> _handlerFactory;
    private readonly TcpServerOptions _options;
    private readonly TcpConnectionOptions _connectionOptions;
    private readonly Func<ConnectionLayer>? _layerFactory;
    private readonly ILogger _logger;
    private readonly ILogger _connectionLogger;
    private readonly Action<TcpConnection> _onConnectionClosed;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _resumeAccepting;
    private Socket? _listener;
    private UnixSocketFile? _socketFile;
    private Registration? _listenerRegistration;
    private IDisposable? _backoffTimer;
    private TimeSpan _backoff;
    private bool _inBackoffEpisode;
    private int _started;
    private volatile bool _stopped;
    private int _connectionCount;
    private long _acceptedCount;
    private long _rejectedCount;
    private long _acceptBackoffCount;
    private string _name;

    /// <summary>Creates a server whose listener and connections all run on one reactor; nothing happens until <see cref="Start"/>.</summary>
    /// <param name="reactor">The reactor that runs the listener and every connection.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> (port 0 picks a free port; <see cref="IPAddress.IPv6Any"/> also accepts IPv4) or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handlerFactory">Makes the handler of each accepted connection, on the connection's reactor thread. It may return a shared instance if the handler keeps no state of its own per connection (a <see cref="ParsingConnectionHandler"/> or <see cref="FramedConnectionHandler"/> does, and refuses a second connection).</param>
    /// <param name="options">Settings; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The end point type is unsupported, the connection options are inconsistent, or <see cref="TcpServerOptions.Tls"/> names no certificate, or one without its private key.</exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The two constructors differ in their first parameter's type; neither has shipped, so no binary compatibility is at stake.")]
    public TcpServer(Reactor reactor, EndPoint endPoint, Func<ConnectionHandler> handlerFactory, TcpServerOptions? options = null)
        : this(reactor ?? throw new ArgumentNullException(nameof(reactor)), [reactor], endPoint, handlerFactory, options)
    {
    }

    /// <summary>
    /// Creates a server that spreads its connections over a <see cref="ReactorGroup"/>: the listener runs on the
    /// group's first reactor and hands each accepted socket to the reactor with the fewest of this server's
    /// connections, where it stays for life. Nothing happens until <see cref="Start"/>.
    /// </summary>
    /// <param name="group">The reactors to spread connections over.</param>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handlerFactory">Makes the handler of each accepted connection, on the connection's reactor thread. A shared instance must then be thread-safe and keep no state of its own per connection.</param>
    /// <param name="options">Settings; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The end point type is unsupported, the connection options are inconsistent, or <see cref="TcpServerOptions.Tls"/> names no certificate, or one without its private key.</exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The two constructors differ in their first parameter's type; neither has shipped, so no binary compatibility is at stake.")]
    public TcpServer(ReactorGroup group, EndPoint endPoint, Func<ConnectionHandler> handlerFactory, TcpServerOptions? options = null)
        : this((group ?? throw new ArgumentNullException(nameof(group))).Reactors[0], [.. group.Reactors], endPoint, handlerFactory, options)
    {
    }

    private TcpServer(Reactor acceptReactor, Reactor[] reactors, EndPoint endPoint, Func<ConnectionHandler> handlerFactory, TcpServerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        if (endPoint is not (IPEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException("Only IPEndPoint and UnixDomainSocketEndPoint can be listened on.", nameof(endPoint));
        }

        _reactor = acceptReactor;
        EndPoint = endPoint;
        _handlerFactory = handlerFactory;
        _options = (options ?? new TcpServerOptions()).Validated();
        _connectionOptions = _options.Connection.Validated();
        _layerFactory = _options.HasTls ? TlsOptions.ServerLayerFactory(_options) : _connectionOptions.LayerFactory;

        _logger = acceptReactor.CreateLogger("SelectReactor.Net.TcpServer");
        _connectionLogger = acceptReactor.CreateLogger("SelectReactor.Net.TcpConnection");
        long budgetShare = Math.Max(1, _options.MaxPendingSendBytesTotal / reactors.Length); // each reactor keeps its own share
        _shards = Array.ConvertAll(reactors, r => new Shard(r, budgetShare, _connectionLogger));
        _onConnectionClosed = OnConnectionClosed;
        _resumeAccepting = ResumeAccepting;
        _backoff = _options.InitialAcceptBackoff;
        _name = endPoint.ToString() ?? "?";
    }

    /// <summary>The end point asked for.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The end point actually bound (with the real port when 0 was asked for), once started.</summary>
    public EndPoint? LocalEndPoint { get; private set; }

    /// <summary>Connections currently open.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>Connections accepted so far, rejected ones included.</summary>
    public long AcceptedCount => Volatile.Read(ref _acceptedCount);

    /// <summary>Connections accepted and closed at once because <see cref="TcpServerOptions.MaxConnections"/> were open.</summary>
    public long RejectedCount => Volatile.Read(ref _rejectedCount);

    /// <summary>How many times accept ran out of descriptors or buffers and the listener backed off.</summary>
    public long AcceptBackoffCount => Volatile.Read(ref _acceptBackoffCount);

    /// <summary>
    /// Output held unsent by this server's connections, summed, as of each connection's last flush: what
    /// <see cref="TcpServerOptions.MaxPendingSendBytesTotal"/> limits.
    /// </summary>
    public long PendingSendBytes
    {
        get
        {
            long total = 0;
            foreach (Shard shard in _shards)
            {
                total += shard.Budget.Used;
            }

            return total;
        }
    }

    /// <summary>Completes once the server has stopped and its last connection has closed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Binds, listens and starts accepting. The socket work happens on the calling thread, so binding errors surface
    /// here and <see cref="LocalEndPoint"/> is set on return. Safe from any thread; only once.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="SocketException">The end point could not be bound (for example it is in use); the message names it.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        DescriptorReserve.Start();

        Socket listener = EndPoint is UnixDomainSocketEndPoint unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (EndPoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            if (EndPoint is UnixDomainSocketEndPoint unixEndPoint)
            {
                UnixSocketFile.RemoveIfStale(unixEndPoint); // a stale socket file goes; anything else refuses the start
            }

            listener.Bind(EndPoint);
            _socketFile = EndPoint is UnixDomainSocketEndPoint bound ? UnixSocketFile.Created(bound) : null;
            listener.Listen(_options.Backlog);
            LocalEndPoint = listener.LocalEndPoint ?? EndPoint;
            _name = LocalEndPoint.ToString() ?? _name;
            _listener = listener;
            _listenerRegistration = _reactor.Register(listener, new ListenerEvents(this), Interest.Read);
        }
        catch (SocketException e) when (!e.Message.StartsWith("Cannot listen on", StringComparison.Ordinal))
        {
            // "Address already in use" alone does not say which address: name it, keeping the error code. (The Unix
            // socket path checks name it already.)
            listener.Dispose();
            throw new SocketException((int)e.SocketErrorCode, $"Cannot listen on {EndPoint}: {e.Message}");
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        NetLog.Listening(_logger, _name);
    }

    /// <summary>
    /// Stops accepting (the listener is closed and a Unix socket file removed) and closes every connection
    /// gracefully; <see cref="Completion"/> completes when the last one has closed. Safe from any thread; idempotent.
    /// </summary>
    public void Stop()
    {
        if (_reactor.IsOnReactorThread)
        {
            StopOnReactor();
            return;
        }

        try
        {
            _reactor.Post(static server => server.StopOnReactor(), this);
        }
        catch (ObjectDisposedException)
        {
            // Expected when the reactor is gone: it closed the listener and every connection already.
            _completion.TrySetResult();
        }
    }

    /// <summary>Same as <see cref="Stop"/>.</summary>
    public void Dispose() => Stop();

    private void StopOnReactor()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _backoffTimer?.Dispose();
        _listenerRegistration?.Dispose();
        if (_listener is not null)
        {
            // Only a server that listened stopped listening (Dispose after a failed Start says nothing).
            CloseListener();
            NetLog.StoppedListening(_logger, _name, ConnectionCount);
        }

        foreach (Shard shard in _shards)
        {
            if (shard.Reactor.IsOnReactorThread)
            {
                shard.CloseAll();
                continue;
            }

            try
            {
                // Posted after any socket this thread handed over, so those are started (or refused) first.
                shard.Reactor.Post(static s => s.CloseAll(), shard);
            }
            catch (ObjectDisposedException)
            {
                // Expected when that reactor is gone: it closed its connections as it went.
            }
        }

        CompleteIfDone();
    }

    private void CompleteIfDone()
    {
        if (_stopped && Volatile.Read(ref _connectionCount) == 0)
        {
            _completion.TrySetResult();
        }
    }

    private void CloseListener()
    {
        if (_listener is not null && _socketFile is not null)
        {
            // Removes the socket file only if it is still the one this server's bind created.
            _socketFile.CloseListener(_listener);
        }
        else
        {
            _listener?.Dispose();
        }
    }

    private void OnListenerReadable()
    {
        Socket listener = _listener!;
        for (int i = 0; i < _options.AcceptBatch && !_stopped; i++)
        {
            // The first accept is backed by the readiness we were given; later ones check first, so that an empty
            // backlog costs a poll rather than a thrown WouldBlock.
            if (i > 0 && !listener.Poll(0, SelectMode.SelectRead))
            {
                break;
            }

            Socket accepted;
            try
            {
                accepted = listener.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                EndBackoffEpisode(); // the backlog is drained without running out: fully recovered
                break; // expected: spurious readiness, or another process took the connection
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue; // expected: the client gave up before we accepted
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                BackOff(e.SocketErrorCode);
                return;
            }
            catch (SocketException e)
            {
                NetLog.AcceptFailed(_logger, _name, e);
                break;
            }

            // Progress: the next shortage starts again from the shortest pause.
            _backoff = _options.InitialAcceptBackoff;
            OnAccepted(accepted);
        }

        if (_inBackoffEpisode && !listener.Poll(0, SelectMode.SelectRead))
        {
            EndBackoffEpisode();
        }
    }

    /// <summary>
    /// An episode of running out of descriptors ends only when the backlog has drained, so that the busy stretch
    /// of freeing and refilling descriptors in between logs one warning, not one per accept.
    /// </summary>
    private void EndBackoffEpisode()
    {
        if (_inBackoffEpisode)
        {
            _inBackoffEpisode = false;
            NetLog.AcceptRecovered(_logger, _name);
        }
    }

    private void OnAccepted(Socket socket)
    {
        Interlocked.Increment(ref _acceptedCount);
        if (Volatile.Read(ref _connectionCount) >= _options.MaxConnections)
        {
            Interlocked.Increment(ref _rejectedCount);
            if (ReactorMetrics.ConnectionsRejected.Enabled)
            {
                ReactorMetrics.ConnectionsRejected.Add(1, _reactor.MetricTag);
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string peer = SocketDescription.Endpoint(socket, local: false); // built only when logged (CA1873)
                NetLog.ConnectionRejected(_logger, peer, ConnectionCount);
            }

            socket.Dispose();
            return;
        }

        try
        {
            if (socket.AddressFamily != AddressFamily.Unix)
            {
                socket.NoDelay = _options.NoDelay;
            }

            if (_options.Linger is { } linger)
            {
                socket.LingerState = linger;
            }
        }
        catch (SocketException)
        {
            // Expected when the client reset before we got here: the connection would only fail at once.
            socket.Dispose();
            return;
        }

        // Counted from here (in total and on the chosen reactor), so MaxConnections and the balance hold while the
        // socket travels to another reactor.
        Interlocked.Increment(ref _connectionCount);
        Shard shard = LeastLoadedShard();
        shard.Reserve();
        if (shard.Reactor.IsOnReactorThread)
        {
            StartConnection(shard, socket);
            return;
        }

        try
        {
            shard.Reactor.Post(new Handoff(this, shard, socket));
        }
        catch (ObjectDisposedException)
        {
            // Expected while the group shuts down: that reactor will run nothing more.
            socket.Dispose();
            shard.Release();
            ReleaseConnection();
        }
    }

    private Shard LeastLoadedShard()
    {
        Shard best = _shards[0];
        for (int i = 1; i < _shards.Length; i++)
        {
            if (_shards[i].Count < best.Count)
            {
                best = _shards[i];
            }
        }

        return best;
    }

    /// <summary>Runs an accepted socket as a connection. On the shard's reactor thread.</summary>
    private void StartConnection(Shard shard, Socket socket)
    {
        if (_stopped)
        {
            socket.Dispose();
            shard.Release();
            ReleaseConnection();
            return;
        }

        ConnectionHandler handler;
        ConnectionLayer? layer;
        try
        {
            handler = _handlerFactory() ?? throw new InvalidOperationException("The handler factory returned null.");
            layer = _layerFactory?.Invoke();
        }
        catch (Exception e)
        {
            // A failing factory costs only this connection.
            NetLog.HandlerFactoryFault(_logger, _name, e);
            socket.Dispose();
            shard.Release();
            ReleaseConnection();
            return;
        }

        var connection = new TcpConnection(shard.Reactor, socket, handler, _connectionOptions, _connectionLogger, _onConnectionClosed, layer);
        connection.UseBudget(shard.Budget);
        shard.Add(connection);
        connection.StartAccepted();
    }

    /// <summary>A connection ended. On its reactor thread.</summary>
    private void OnConnectionClosed(TcpConnection connection)
    {
        foreach (Shard shard in _shards)
        {
            if (ReferenceEquals(shard.Reactor, connection.Reactor))
            {
                if (shard.Remove(connection))
                {
                    ReleaseConnection();
                }

                return;
            }
        }
    }

    private void ReleaseConnection()
    {
        Interlocked.Decrement(ref _connectionCount);
        CompleteIfDone();
    }

    /// <summary>
    /// Out of descriptors or buffers: the listener stays readable, so watching it now would spin. Stop watching for a
    /// while (doubling each time, up to the maximum) and log once per episode.
    /// </summary>
    private void BackOff(SocketError error)
    {
        DescriptorReserve.Release(); // first: logging the warning may itself need a descriptor
        Interlocked.Increment(ref _acceptBackoffCount);
        if (ReactorMetrics.AcceptBackoffs.Enabled)
        {
            ReactorMetrics.AcceptBackoffs.Add(1, _reactor.MetricTag);
        }

        if (!_inBackoffEpisode)
        {
            _inBackoffEpisode = true;
            NetLog.AcceptBackoff(_logger, _name, error, (int)_backoff.TotalMilliseconds, (int)_options.MaxAcceptBackoff.TotalMilliseconds);
        }

        _listenerRegistration!.Interest = Interest.None;
        _backoffTimer = _reactor.Schedule(_backoff, _resumeAccepting);
        TimeSpan doubled = _backoff * 2;
        _backoff = doubled > _options.MaxAcceptBackoff ? _options.MaxAcceptBackoff : doubled;
    }

    private void ResumeAccepting()
    {
        if (!_stopped && _listenerRegistration is { IsActive: true } registration)
        {
            if (!DescriptorReserve.TryRestore())
            {
                BackOff(SocketError.TooManyOpenSockets); // not enough room yet to accept and keep the reserve
                return;
            }

            registration.Interest = Interest.Read;
        }
    }

    private void OnListenerClosed(CloseReason reason, Exception? error)
    {
        if (reason == CloseReason.Unregistered)
        {
            return; // our own Stop
        }

        // The reactor is going away, or someone disposed our listener: stop the server cleanly either way.
        if (reason == CloseReason.DeadSocket && error is not null)
        {
            NetLog.AcceptFailed(_logger, _name, error);
        }

        _listenerRegistration = null;
        StopOnReactor();
    }

    /// <summary>An accepted socket on its way to another reactor: started there, or closed if that reactor is disposed first.</summary>
    private sealed class Handoff(TcpServer server, Shard shard, Socket socket) : IReactorWork
    {
        public void Run() => server.StartConnection(shard, socket);

        public void Drop()
        {
            socket.Dispose();
            shard.Release();
            server.ReleaseConnection();
        }
    }

    /// <summary>
    /// The connections of one reactor, and their share of the budget for pending output. Its set and its budget are
    /// touched only on that reactor's thread (the budget's total is read from any).
    /// </summary>
    private sealed class Shard
    {
        private readonly HashSet<TcpConnection> _connections = new();
        private readonly ILogger _logger;
        private int _count;

        public Shard(Reactor reactor, long budget, ILogger logger)
        {
            Reactor = reactor;
            _logger = logger;
            Budget = new OutputBudget(budget, _ => EvictLargest());
        }

        public Reactor Reactor { get; }

        /// <summary>This reactor's share of <see cref="TcpServerOptions.MaxPendingSendBytesTotal"/>.</summary>
        public OutputBudget Budget { get; }

        /// <summary>Connections placed on this reactor (open or on their way); read by the accepting thread to balance.</summary>
        public int Count => Volatile.Read(ref _count);

        /// <summary>Counts a socket placed here before it arrives. Accepting thread.</summary>
        public void Reserve() => Interlocked.Increment(ref _count);

        /// <summary>Gives back a reservation whose socket never became a connection.</summary>
        public void Release() => Interlocked.Decrement(ref _count);

        public void Add(TcpConnection connection) => _connections.Add(connection);

        public bool Remove(TcpConnection connection)
        {
            if (!_connections.Remove(connection))
            {
                return false;
            }

            Interlocked.Decrement(ref _count);
            return true;
        }

        /// <summary>
        /// Over budget: abort the connections holding the most pending output until the budget is met again, so the
        /// slowest readers pay rather than whichever connection happened to cross the line.
        /// </summary>
        private void EvictLargest()
        {
            while (Budget.Used > Budget.Limit && Largest() is { } largest)
            {
                ConnectionLog.BudgetExceeded(_logger, largest, largest.PendingSendBytes, Budget.Used, Budget.Limit);
                largest.Evict(Budget.Limit);
            }
        }

        /// <summary>The open connection holding the most pending output, or null when none holds any.</summary>
        private TcpConnection? Largest()
        {
            TcpConnection? largest = null;
            long most = 0;
            foreach (TcpConnection connection in _connections)
            {
                long pending = connection.IsClosed ? 0 : connection.PendingSendBytes;
                if (pending > most)
                {
                    most = pending;
                    largest = connection;
                }
            }

            return largest;
        }

        public void CloseAll()
        {
            foreach (TcpConnection connection in new List<TcpConnection>(_connections))
            {
                connection.Close();
            }
        }
    }

    private sealed class ListenerEvents(TcpServer server) : IEventHandler
    {
        public void OnReadable(Registration registration) => server.OnListenerReadable();

        public void OnWritable(Registration registration)
        {
        }

        public void OnError(Registration registration) => server.OnListenerReadable();

        public void OnClosed(Registration registration, CloseReason reason, Exception? error) => server.OnListenerClosed(reason, error);
    }
}
