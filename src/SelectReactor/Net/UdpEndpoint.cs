using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// A UDP socket on a <see cref="Reactor"/>: receives datagrams into one reused buffer and one reused
/// <see cref="SocketAddress"/> (nothing is allocated per datagram), in bounded batches per readiness, and sends to
/// any end point. Truncated datagrams and ICMP errors are reported to the handler, never thrown into the loop.
/// </summary>
/// <remarks><see cref="Start"/>, <see cref="Dispose"/> and the counters are safe from any thread; sending is reactor-thread only.</remarks>
public sealed class UdpEndpoint : IDisposable
{
    private readonly Reactor _reactor;
    private readonly DatagramHandler _handler;
    private readonly UdpEndpointOptions _options;
    private readonly ILogger _logger;
    private readonly byte[] _buffer;
    private Socket? _socket;
    private SocketAddress? _remote;
    private Registration? _registration;
    private int _started;
    private bool _closed;
    private long _received;
    private long _sent;
    private long _truncated;
    private long _dropped;

    /// <summary>Creates an endpoint; nothing happens until <see cref="Start"/>.</summary>
    /// <param name="reactor">The reactor it runs on.</param>
    /// <param name="localEndPoint">The IP end point to bind (port 0 picks a free port).</param>
    /// <param name="handler">Receives its events.</param>
    /// <param name="options">Settings; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public UdpEndpoint(Reactor reactor, IPEndPoint localEndPoint, DatagramHandler handler, UdpEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reactor);
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ArgumentNullException.ThrowIfNull(handler);
        _reactor = reactor;
        EndPoint = localEndPoint;
        _handler = handler;
        _options = options ?? new UdpEndpointOptions();
        _logger = reactor.CreateLogger("SelectReactor.Net.UdpEndpoint");

        // One byte more than the largest datagram we accept whole, so that a cut-off one can be told apart.
        _buffer = new byte[_options.MaxDatagramSize + 1];
    }

    /// <summary>The end point asked for.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The end point actually bound, once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The reactor the endpoint runs on.</summary>
    public Reactor Reactor => _reactor;

    /// <summary>Datagrams received whole.</summary>
    public long DatagramsReceived => Volatile.Read(ref _received);

    /// <summary>Datagrams sent.</summary>
    public long DatagramsSent => Volatile.Read(ref _sent);

    /// <summary>Datagrams larger than <see cref="UdpEndpointOptions.MaxDatagramSize"/>, cut short.</summary>
    public long DatagramsTruncated => Volatile.Read(ref _truncated);

    /// <summary>Datagrams not sent because the socket's send buffer was full (UDP drops rather than queues).</summary>
    public long DatagramsDropped => Volatile.Read(ref _dropped);

    /// <summary>Binds and starts receiving. Binding errors surface here. Safe from any thread; only once.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="SocketException">The end point could not be bound.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The endpoint was already started.");
        }

        var socket = new Socket(EndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (EndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(EndPoint);
            LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
            _socket = socket;
            _remote = new SocketAddress(socket.AddressFamily);
            _registration = _reactor.Register(socket, new Events(this), Interest.Read);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one datagram to <paramref name="remote"/>. Reactor thread only.</summary>
    /// <param name="data">The datagram.</param>
    /// <param name="remote">Where to; a <see cref="SocketAddress"/> from <see cref="DatagramHandler.OnDatagram"/> replies without allocating.</param>
    /// <returns><see langword="true"/> when sent; <see langword="false"/> when dropped (send buffer full, or an error reported to <see cref="DatagramHandler.OnError"/>) or the endpoint is closed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Not on the reactor thread, or not started.</exception>
    public bool SendTo(ReadOnlySpan<byte> data, SocketAddress remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Socket socket = EnsureSendable();
        if (_closed)
        {
            return false;
        }

        try
        {
            socket.SendTo(data, SocketFlags.None, remote);
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (SocketException e)
        {
            // Expected: a full buffer (UDP drops), or an ICMP error from an earlier send surfacing here.
            OnSendError(e.SocketErrorCode);
            return false;
        }
    }

    /// <summary>Sends one datagram to <paramref name="remote"/>. Reactor thread only.</summary>
    /// <param name="data">The datagram.</param>
    /// <param name="remote">Where to.</param>
    /// <returns>As <see cref="SendTo(ReadOnlySpan{byte}, SocketAddress)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Not on the reactor thread, or not started.</exception>
    public bool SendTo(ReadOnlySpan<byte> data, EndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return SendTo(data, remote.Serialize());
    }

    /// <summary>Stops receiving and closes the socket; the handler hears <see cref="DatagramHandler.OnClosed"/>. Safe from any thread; idempotent.</summary>
    public void Dispose()
    {
        if (_reactor.IsOnReactorThread)
        {
            _registration?.Dispose();
            return;
        }

        try
        {
            _reactor.Post(static e => e._registration?.Dispose(), this);
        }
        catch (ObjectDisposedException)
        {
            // Expected when the reactor is gone: it closed the endpoint already.
        }
    }

    private Socket EnsureSendable()
    {
        if (!_reactor.IsOnReactorThread)
        {
            throw new InvalidOperationException("UdpEndpoint.SendTo must be called on the reactor thread; use Reactor.Post from other threads.");
        }

        return _socket ?? throw new InvalidOperationException("The endpoint is not started.");
    }

    private void OnSendError(SocketError error)
    {
        Interlocked.Increment(ref _dropped);
        if (error is not (SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable))
        {
            Report(error);
        }
    }

    private void OnReadable()
    {
        Socket socket = _socket!;
        SocketAddress remote = _remote!;
        for (int i = 0; i < _options.MaxDatagramsPerReadiness && !_closed; i++)
        {
            // The first receive is backed by the readiness we were given; later ones check first, so an empty
            // socket costs an ioctl rather than a thrown WouldBlock.
            if (i > 0 && socket.Available == 0)
            {
                break;
            }

            int n;
            try
            {
                n = socket.ReceiveFrom(_buffer, SocketFlags.None, remote);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                break; // expected: spurious readiness
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                Truncated(_options.MaxDatagramSize, remote);
                continue;
            }
            catch (SocketException e)
            {
                // Expected: an ICMP error (port unreachable) for an earlier send. The endpoint carries on.
                Report(e.SocketErrorCode);
                continue;
            }

            if (n > _options.MaxDatagramSize)
            {
                Truncated(n - 1, remote);
                continue;
            }

            Interlocked.Increment(ref _received);
            try
            {
                _handler.OnDatagram(this, _buffer.AsSpan(0, n), remote);
            }
            catch (Exception e)
            {
                // One bad datagram (or handler bug) must not end the endpoint.
                NetLog.DatagramHandlerFault(_logger, LocalEndPoint?.ToString() ?? "?", e);
            }
        }
    }

    private void Truncated(int length, SocketAddress remote)
    {
        Interlocked.Increment(ref _truncated);
        try
        {
            _handler.OnTruncated(this, _buffer.AsSpan(0, Math.Min(length, _options.MaxDatagramSize)), remote);
        }
        catch (Exception e)
        {
            NetLog.DatagramHandlerFault(_logger, LocalEndPoint?.ToString() ?? "?", e);
        }
    }

    private void Report(SocketError error)
    {
        try
        {
            _handler.OnError(this, error);
        }
        catch (Exception e)
        {
            NetLog.DatagramHandlerFault(_logger, LocalEndPoint?.ToString() ?? "?", e);
        }
    }

    private void OnClosed(CloseReason reason, Exception? error)
    {
        _closed = true;
        _socket?.Dispose();
        try
        {
            _handler.OnClosed(this, reason == CloseReason.Unregistered ? null : error ?? new ObjectDisposedException(nameof(Reactor)));
        }
        catch (Exception e)
        {
            NetLog.DatagramHandlerFault(_logger, LocalEndPoint?.ToString() ?? "?", e);
        }
    }

    private sealed class Events(UdpEndpoint endpoint) : IEventHandler
    {
        public void OnReadable(Registration registration) => endpoint.OnReadable();

        public void OnWritable(Registration registration)
        {
        }

        public void OnError(Registration registration) => endpoint.OnReadable();

        public void OnClosed(Registration registration, CloseReason reason, Exception? error) => endpoint.OnClosed(reason, error);
    }
}
