using System;
using System.Buffers;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// What a <see cref="ConnectionLayer"/> may ask of the connection it sits in: write to the transport below, deliver
/// to the handler above, open or fail the connection. Implemented by <see cref="TcpConnection"/>. Every member is for
/// the reactor thread only, and every one is a no-op once the connection has ended.
/// </summary>
internal interface IConnectionLayerHost
{
    /// <summary>The connection's reactor (for timers, such as a handshake timeout).</summary>
    Reactor Reactor { get; }

    /// <summary>The connection's logger.</summary>
    ILogger Logger { get; }

    /// <summary>The connection the layer serves, for logs and for the state a layer reports (cipher, protocol).</summary>
    TcpConnection Connection { get; }

    /// <summary>
    /// The transport's send queue, to write into in place (<see cref="IBufferWriter{T}.GetSpan"/> then
    /// <see cref="IBufferWriter{T}.Advance"/>). Bytes written leave when the connection flushes, at the end of the
    /// current callback at the latest; they count toward the watermarks and the cap.
    /// </summary>
    IBufferWriter<byte> Transport { get; }

    /// <summary>Copies <paramref name="data"/> into the transport's send queue (see <see cref="Transport"/>).</summary>
    void WriteToTransport(ReadOnlySpan<byte> data);

    /// <summary>
    /// <see langword="true"/> while <see cref="Deliver"/> is welcome: the connection is open (or closing, when input
    /// is discarded), and the handler has not paused reading and is not held back by a full send buffer. A layer
    /// keeps what it cannot deliver, reports it through <see cref="ConnectionLayer.HasPendingInput"/>, and hands it
    /// over in <see cref="ConnectionLayer.DeliverPending"/>.
    /// </summary>
    bool CanDeliver { get; }

    /// <summary>
    /// Hands decoded bytes to the handler's <see cref="ConnectionHandler.OnData"/> (discarded while the connection
    /// closes). Only while <see cref="CanDeliver"/>; check it again after each call, since the handler may pause,
    /// close or abort from inside it.
    /// </summary>
    void Deliver(ReadOnlySpan<byte> data);

    /// <summary>
    /// The stream ended at this layer's level (a TLS close_notify, or the transport's end of stream passed on): the
    /// handler hears <see cref="ConnectionHandler.OnRemoteShutdown"/>. Nothing may be delivered after it.
    /// </summary>
    void DeliverEndOfStream();

    /// <summary>
    /// The handshake is done: the connection opens, the handler hears <see cref="ConnectionHandler.OnConnected"/>,
    /// output queued meanwhile goes through <see cref="ConnectionLayer.Write"/>, and pending input is delivered.
    /// </summary>
    void Open();

    /// <summary>The layer cannot go on (a failed handshake, a protocol error): the connection ends at once, reset, with this reason and error.</summary>
    void Fail(ConnectionCloseReason reason, Exception error);

    /// <summary>
    /// Asks for a <see cref="ConnectionLayer.DeliverPending"/> call once the current callback returns (when the
    /// handler can take input). For input a layer obtained without the socket signalling it.
    /// </summary>
    void RequestDelivery();
}
