using System;

namespace SelectReactor.Net;

/// <summary>
/// The events of one <see cref="TcpConnection"/>. Override <see cref="OnData"/> and whatever else the protocol needs;
/// a protocol written on this class never touches a <see cref="System.Net.Sockets.Socket"/> or an
/// <see cref="Interest"/>. Every method runs on the reactor thread.
/// </summary>
/// <remarks>
/// A handler without per-connection state may be shared by many connections. An exception thrown from any method
/// but <see cref="OnClosed"/> is logged and closes the connection with <see cref="ConnectionCloseReason.HandlerFault"/>.
/// </remarks>
public abstract class ConnectionHandler
{
    /// <summary>The connection is established (accepted, or an outgoing connect succeeded). Default: nothing.</summary>
    /// <param name="connection">The connection.</param>
    public virtual void OnConnected(TcpConnection connection)
    {
    }

    /// <summary>Bytes arrived. The span is valid only during the call: copy what must outlive it.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="data">The bytes received, in order.</param>
    public abstract void OnData(TcpConnection connection, ReadOnlySpan<byte> data);

    /// <summary>
    /// Pending output passed <see cref="TcpConnectionOptions.SendHighWatermark"/> even after the socket was offered
    /// it: the connection has stopped reading until the peer catches up. Called from inside the
    /// <see cref="TcpConnection.Send"/> (or the <see cref="TcpConnection.Output"/>'s Advance) that crossed the mark.
    /// Default: nothing.
    /// </summary>
    /// <param name="connection">The connection.</param>
    public virtual void OnSendBufferFull(TcpConnection connection)
    {
    }

    /// <summary>
    /// Pending output fell to <see cref="TcpConnectionOptions.SendLowWatermark"/> after having been full: the
    /// connection reads again, and a producer may resume. Default: nothing.
    /// </summary>
    /// <param name="connection">The connection.</param>
    public virtual void OnDrained(TcpConnection connection)
    {
    }

    /// <summary>
    /// The peer ended its stream (half-close): no more data will arrive, but this side may still send.
    /// Default: <see cref="TcpConnection.Close"/>, which sends what is queued and then closes.
    /// </summary>
    /// <param name="connection">The connection.</param>
    public virtual void OnRemoteShutdown(TcpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Close();
    }

    /// <summary>
    /// The connection ended; called exactly once, last. Its socket is already disposed and its buffers returned.
    /// Default: nothing.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="reason">Why it ended.</param>
    /// <param name="error">The exception behind an error reason, otherwise <see langword="null"/>.</param>
    public virtual void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
    }
}
