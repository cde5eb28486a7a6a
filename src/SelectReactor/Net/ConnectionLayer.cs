using System;

namespace SelectReactor.Net;

/// <summary>
/// An optional stage between a connection's socket transport and its handler that transforms the byte stream both
/// ways (TLS; any other whole-stream encoding). Internal: the library's own layers and the tests implement it.
/// </summary>
/// <remarks>
/// <para>
/// <b>The path of a byte.</b> In: socket → <see cref="SocketTransport"/> reads into the reactor's buffer →
/// <see cref="OnReceived"/> → the layer decodes and calls <see cref="IConnectionLayerHost.Deliver"/> while
/// <see cref="IConnectionLayerHost.CanDeliver"/> → <see cref="ConnectionHandler.OnData"/>. Out:
/// <see cref="TcpConnection.Send"/> or <see cref="TcpConnection.Output"/> → the connection's own queue of plaintext →
/// when the connection flushes (at the end of the callback, or earlier when the high watermark forces it) one
/// <see cref="Write"/> per queued run → the layer encodes and calls
/// <see cref="IConnectionLayerHost.WriteToTransport"/> (or writes into <see cref="IConnectionLayerHost.Transport"/>)
/// → the transport's send queue → the socket, in the same flush.
/// </para>
/// <para>
/// <b>Lifecycle.</b> (1) <see cref="Attach"/> once. (2) <see cref="OnStart"/> when the socket is connected: the
/// connection is handshaking; the handler is not called, its sends are queued, and the transport reads whenever
/// <see cref="NeedsInput"/>. The layer writes its handshake to the transport and calls
/// <see cref="IConnectionLayerHost.Open"/> when done (or <see cref="IConnectionLayerHost.Fail"/>); a layer without a
/// handshake calls <c>Open</c> from <c>OnStart</c>. (3) Open: bytes flow as above. (4) The end, any of:
/// <see cref="OnTransportEnd"/> (the peer's FIN; the layer passes it on with
/// <see cref="IConnectionLayerHost.DeliverEndOfStream"/>, or fails a stream its own framing says was truncated);
/// the layer's own end marker arriving (also <c>DeliverEndOfStream</c>); <see cref="OnShutdownOutput"/> once, when
/// the handler's Close or Shutdown has flushed every byte through <see cref="Write"/> (write the closing marker, such
/// as close_notify; the transport sends it and then FIN). (5) <see cref="OnClosed"/> once, however the connection
/// ended, after the callback in which it ended has returned (never from inside one of the layer's own calls).
/// </para>
/// <para>
/// <b>Input the socket will not signal again.</b> Bytes already read are the layer's to keep when it cannot deliver
/// them (the handler paused, or one read held several records). It says so with <see cref="HasPendingInput"/>; while
/// that is true the transport stops reading, and the connection calls <see cref="DeliverPending"/> at the end of any
/// callback in which the handler became able to take input (ResumeReading, OnDrained, Open), without waiting for
/// socket readiness. Input decoded at other times is announced with <see cref="IConnectionLayerHost.RequestDelivery"/>.
/// </para>
/// <para>
/// <b>Closing and backpressure.</b> While the connection closes (<see cref="TcpConnection.Close"/>) it keeps reading
/// so the layer can see the peer's end marker; whatever the layer delivers then is discarded.
/// <see cref="PendingOutputBytes"/> count toward the send watermarks and the cap along with the plaintext queue and
/// the transport's queue, so <see cref="TcpConnection.PendingSendBytes"/> is everything buffered.
/// </para>
/// <para>
/// <b>Threading.</b> Every call either way is on the reactor thread and must complete synchronously: a layer built on
/// a stream API (<c>SslStream</c> over an in-memory duplex stream) completes its inner stream's operations from
/// these calls. A layer never blocks and never calls the handler except through the host.
/// </para>
/// </remarks>
internal abstract class ConnectionLayer
{
    private IConnectionLayerHost? _host;

    /// <summary>The connection this layer sits in. Set by <see cref="Attach"/>.</summary>
    protected IConnectionLayerHost Host => _host ?? throw new InvalidOperationException("The layer is not attached to a connection.");

    /// <summary>
    /// <see langword="true"/> while the layer holds decoded input it could not deliver yet. The transport does not
    /// read while it is true (unless <see cref="NeedsInput"/>), and <see cref="DeliverPending"/> follows as soon as
    /// the handler can take input.
    /// </summary>
    public abstract bool HasPendingInput { get; }

    /// <summary>
    /// <see langword="true"/> when the layer must read whatever the handler wants, such as during a handshake. Default
    /// <see langword="false"/>.
    /// </summary>
    public virtual bool NeedsInput => false;

    /// <summary>Bytes the layer holds on their way out, counted with the connection's pending output. Default 0.</summary>
    public virtual long PendingOutputBytes => 0;

    /// <summary>Connects the layer to its connection. Called once, before <see cref="OnStart"/>.</summary>
    /// <exception cref="InvalidOperationException">The layer is already attached (a layer serves one connection).</exception>
    public void Attach(IConnectionLayerHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_host is not null)
        {
            throw new InvalidOperationException("A connection layer serves one connection; make one per connection.");
        }

        _host = host;
    }

    /// <summary>The socket is connected: start the handshake, or call <see cref="IConnectionLayerHost.Open"/>.</summary>
    public abstract void OnStart();

    /// <summary>Bytes read from the socket. The span is the reactor's receive buffer, valid only during the call: copy what is kept.</summary>
    /// <param name="data">The bytes, in order.</param>
    public abstract void OnReceived(ReadOnlySpan<byte> data);

    /// <summary>The peer's FIN arrived: no more bytes will come from the socket.</summary>
    public abstract void OnTransportEnd();

    /// <summary>Deliver what <see cref="HasPendingInput"/> reports, while <see cref="IConnectionLayerHost.CanDeliver"/>.</summary>
    public abstract void DeliverPending();

    /// <summary>Plaintext the handler sent, in order, to encode into the transport. The span is valid only during the call.</summary>
    /// <param name="data">The bytes.</param>
    public abstract void Write(ReadOnlySpan<byte> data);

    /// <summary>Every byte the handler sent has gone through <see cref="Write"/> and the handler closed its side: write the closing marker.</summary>
    public abstract void OnShutdownOutput();

    /// <summary>The connection ended: return every buffer. Called once.</summary>
    public abstract void OnClosed();
}
