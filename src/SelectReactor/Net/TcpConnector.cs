using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>Opens outgoing connections on a reactor without ever blocking its thread.</summary>
public static class TcpConnector
{
    /// <summary>
    /// Starts a non-blocking connect. The handler hears <see cref="ConnectionHandler.OnConnected"/> on success, or
    /// <see cref="ConnectionHandler.OnClosed"/> with <see cref="ConnectionCloseReason.ConnectFailed"/> or
    /// <see cref="ConnectionCloseReason.ConnectTimeout"/> and the <see cref="SocketException"/>. A
    /// <see cref="DnsEndPoint"/> is resolved on the thread pool first; every resolved address is tried in turn.
    /// Bytes sent before the connection is established are queued and flushed once it is. With
    /// <see cref="TcpConnectorOptions.Tls"/>, established means the TLS handshake is done too, and a failed handshake
    /// ends it with <see cref="ConnectionCloseReason.TlsHandshakeFailed"/>. Safe from any thread.
    /// </summary>
    /// <param name="reactor">The reactor the connection will run on.</param>
    /// <param name="remoteEndPoint">An <see cref="IPEndPoint"/>, <see cref="DnsEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>.</param>
    /// <param name="handler">Receives the connection's events.</param>
    /// <param name="options">Settings; <see langword="null"/> takes the defaults.</param>
    /// <returns>The connection, still connecting.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The end point is of an unsupported type, or the options are inconsistent.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed: from another thread, it has finished shutting
    /// down (until then the connection is taken and ends with <see cref="ConnectionCloseReason.ReactorDisposed"/>);
    /// from its own callbacks, its shutdown has begun.</exception>
    public static TcpConnection Connect(Reactor reactor, EndPoint remoteEndPoint, ConnectionHandler handler, TcpConnectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reactor);
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        ArgumentNullException.ThrowIfNull(handler);
        if (remoteEndPoint is not (IPEndPoint or DnsEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException("Only IPEndPoint, DnsEndPoint and UnixDomainSocketEndPoint are supported.", nameof(remoteEndPoint));
        }

        options ??= new TcpConnectorOptions();
        options.Connection.Validated();
        ILogger logger = reactor.CreateLogger("SelectReactor.Net.TcpConnector");
        ConnectionLayer? layer = options.HasTls
            ? TlsOptions.ClientLayer(options, remoteEndPoint)
            : options.Connection.LayerFactory?.Invoke();
        var connection = new TcpConnection(reactor, null, handler, options.Connection, logger, onClosed: null, layer);
        var attempt = new ConnectAttempt(connection, remoteEndPoint, options, logger);
        if (reactor.IsOnReactorThread)
        {
            attempt.Start();
        }
        else
        {
            reactor.Post(attempt); // run, or if the reactor is disposed first, the connection ends with ReactorDisposed
        }

        return connection;
    }
}
