namespace SelectReactor.Net;

/// <summary>Why a <see cref="TcpConnection"/> ended. Passed to <see cref="ConnectionHandler.OnClosed"/>.</summary>
public enum ConnectionCloseReason
{
    /// <summary>This side closed gracefully: <see cref="TcpConnection.Close"/> or <see cref="TcpConnection.Shutdown"/> finished, everything queued was sent.</summary>
    LocalClose,

    /// <summary>The peer ended its stream first and the connection then finished gracefully.</summary>
    RemoteClose,

    /// <summary><see cref="TcpConnection.Abort"/> was called: the connection was reset at once, queued bytes dropped.</summary>
    Aborted,

    /// <summary>The peer reset the connection, or a send hit a broken pipe.</summary>
    ConnectionReset,

    /// <summary>Any other socket error; the error is a <see cref="System.Net.Sockets.SocketException"/>.</summary>
    SocketError,

    /// <summary>Nothing was received or sent for longer than <see cref="TcpConnectionOptions.IdleTimeout"/>.</summary>
    IdleTimeout,

    /// <summary>Pending output would have exceeded <see cref="TcpConnectionOptions.MaxPendingSendBytes"/>; the connection was aborted.</summary>
    SendBufferOverflow,

    /// <summary><see cref="TcpConnection.Close"/> could not send everything within <see cref="TcpConnectionOptions.CloseTimeout"/>; the rest was dropped.</summary>
    CloseTimeout,

    /// <summary>A <see cref="ConnectionHandler"/> callback threw; the exception is passed along.</summary>
    HandlerFault,

    /// <summary>An outgoing connection could not be established (refused, unreachable, or the name did not resolve).</summary>
    ConnectFailed,

    /// <summary>An outgoing connection was not established within the connect timeout.</summary>
    ConnectTimeout,

    /// <summary>The reactor was disposed.</summary>
    ReactorDisposed,

    /// <summary>The socket died behind the connection's back (disposed by other code) and the reactor evicted it.</summary>
    DeadSocket,

    /// <summary>
    /// A frame was longer than the parsing handler's maximum (<see cref="ParsingConnectionHandler.MaxBufferedBytes"/>,
    /// or the decoder's limit): the connection stopped parsing and closed gracefully, sending what was queued.
    /// </summary>
    FrameTooLarge,

    /// <summary>
    /// The peer broke the protocol (a malformed frame, or <see cref="ParsingConnectionHandler.CloseForProtocolError"/>):
    /// the connection stopped parsing and closed gracefully, sending what was queued (an error reply, say).
    /// </summary>
    ProtocolError,

    /// <summary>
    /// The TLS handshake failed or did not complete within <see cref="TcpServerOptions.TlsHandshakeTimeout"/> (or
    /// <see cref="TcpConnectorOptions.TlsHandshakeTimeout"/>): a certificate that did not validate, no protocol or
    /// cipher in common, bytes that are not TLS (plaintext sent to a TLS port), or a peer that stopped half-way. The
    /// error is the <see cref="System.Security.Authentication.AuthenticationException"/>, the
    /// <see cref="System.IO.IOException"/> or the <see cref="System.TimeoutException"/> behind it. The handler never
    /// heard <see cref="ConnectionHandler.OnConnected"/>.
    /// </summary>
    TlsHandshakeFailed,

    /// <summary>
    /// After the handshake, the TLS session failed: a record that did not decrypt or was longer than TLS allows, a
    /// fatal alert from the peer, a refused renegotiation the peer would not do without, or a stream that ended in
    /// the middle of a record. The error is the <see cref="System.IO.IOException"/> that says which.
    /// </summary>
    TlsError,
}
