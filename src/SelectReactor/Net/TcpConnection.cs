using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// A buffered, non-blocking TCP (or Unix domain stream) connection on a <see cref="Reactor"/>: reads when readable,
/// gathers what the handler sends during a callback and sends it in one system call as the callback returns, applies
/// backpressure with high and low watermarks, closes gracefully, and ends with exactly one
/// <see cref="ConnectionHandler.OnClosed"/>.
/// </summary>
/// <remarks>
/// <para>
/// Created by <see cref="TcpServer"/> for accepted sockets and by <see cref="TcpConnector"/> for outgoing ones.
/// Every member must be used on the reactor thread (from a handler callback, a timer, or <see cref="Reactor.Post(Action)"/>);
/// other threads post to the reactor.
/// </para>
/// <para>
/// <b>When data leaves.</b> <see cref="Send"/> and <see cref="Output"/> add to the connection's output; everything
/// added during one reactor callback (a handler callback, a timer, a posted action, whichever connection it runs for)
/// is sent when that callback returns, in one <c>send</c> (gathered with <c>sendmsg</c> when it spans several pooled
/// segments). So sixteen replies to sixteen pipelined requests leave in one system call and, with NoDelay, in as few
/// TCP segments as their size allows. Two exceptions keep large writes cheap: a single <see cref="Send"/> of 16 KiB
/// or more goes to the socket at once, after anything gathered before it, straight from the caller's memory; and
/// output is sent early, whenever gathering it would pass <see cref="TcpConnectionOptions.SendHighWatermark"/>.
/// What the socket does not take stays queued and is sent as it becomes writable.
/// </para>
/// </remarks>
public sealed partial class TcpConnection : IConnectionLayerHost, IEndOfCallback
{
    // A connection is up to three layers, and a byte takes this path through them:
    //
    //   socket ⇄ SocketTransport ⇄ ConnectionLayer (optional: TLS) ⇄ TcpConnection ⇄ ConnectionHandler
    //
    // SocketTransport owns the socket: reads into the reactor's buffer, the send queue and gathered sends, FIN and
    // reset, the registration's interest, the non-blocking connect. A ConnectionLayer transforms the stream both
    // ways. TcpConnection is what the handler sees, in four files by concern: this one (the public surface),
    // .DataPath (bytes in and out: delivery, gathering until the end of the callback, flushing, backpressure),
    // .Lifecycle (the state machine: starting, closing and its timers, the one OnClosed) and .LayerHost (what a
    // layer may call).

    /// <summary>A <see cref="Send"/> at least this large is sent at once instead of gathered: a copy would cost more than the system call it could save.</summary>
    internal const int WriteThroughSize = SendQueue.SegmentSize;

    /// <summary>What <see cref="Output"/> offers when asked for no particular size.</summary>
    private const int DefaultWriterSpan = 256;

    private readonly Reactor _reactor;
    private readonly TcpConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly SocketTransport _transport;
    private readonly ConnectionLayer? _layer;

    // Where Send and Output write: the transport's queue itself, or, under a layer, plaintext waiting to go through it.
    private readonly SendQueue _output;
    private readonly Action? _onIdleCheck;
    private readonly Action _onCloseTimer;
    private ConnectionState _state;
    private ConnectionCloseReason _closeReason;
    private Exception? _closeError;
    private bool _readingPaused;
    private bool _backpressured;
    private bool _inputEnded;
    private bool _outputShut;
    private bool _notified;
    private bool _endOfCallbackQueued;
    private bool _deliveryRequested;
    private bool _layerBusy;
    private bool _inOwnRead;
    private bool _ownReadWork;

    // Bytes of this (plain) connection's output in the reactor's staging area, which it owns while this is positive.
    // They come before anything in _output, which is empty while they are staged.
    private int _staged;
    private IDisposable? _closeTimer;
    private IDisposable? _idleTimer;
    private long _lastActivity;
    private long _closeProgress;
    private long _accountedPending;
    private OutputBudget? _budget;
    private ConnectAttempt? _connect;
    private ConnectionOutput? _writer;
    private byte[]? _discard;
    private EndPoint? _localEndPoint;
    private EndPoint? _remoteEndPoint;

    internal TcpConnection(Reactor reactor, Socket? socket, ConnectionHandler handler, TcpConnectionOptions options, ILogger logger, Action<TcpConnection>? onClosed, ConnectionLayer? layer = null)
    {
        _reactor = reactor;
        Handler = handler;
        _options = options;
        _logger = logger;
        OnClosedInternal = onClosed;
        _transport = new SocketTransport(this, reactor, socket);
        _layer = layer;
        _output = layer is null ? _transport.Queue : new SendQueue(reactor.SendScratch);
        layer?.Attach(this);
        _onCloseTimer = OnCloseTimer;
        if (options.IdleTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            _onIdleCheck = CheckIdle;
        }
    }

    /// <summary>The reactor the connection runs on.</summary>
    public Reactor Reactor => _reactor;

    /// <summary>The handler receiving this connection's events.</summary>
    public ConnectionHandler Handler { get; }

    /// <summary>
    /// The local end point, or <see langword="null"/> before the connection is established. Read from the socket on
    /// first use and kept, so connections that never ask hold no end point objects.
    /// </summary>
    public EndPoint? LocalEndPoint => _localEndPoint ??= _state is ConnectionState.Closed ? null : _transport.ReadEndPoint(local: true);

    /// <summary>The remote end point, or <see langword="null"/> before the connection is established. Read on first use and kept.</summary>
    public EndPoint? RemoteEndPoint => _remoteEndPoint ??= _state is ConnectionState.Closed ? null : _transport.ReadEndPoint(local: false);

    /// <summary><see langword="true"/> while the connection is established and accepts <see cref="Send"/>.</summary>
    public bool IsOpen => _state == ConnectionState.Open;

    /// <summary><see langword="true"/> once the connection has ended (its socket is disposed).</summary>
    public bool IsClosed => _state == ConnectionState.Closed;

    /// <summary>
    /// Bytes accepted by <see cref="Send"/> or <see cref="Output"/> and not yet handed to the operating system:
    /// those gathered during the current callback as well as those waiting for the socket (and, under a layer such
    /// as TLS, everything it holds on the way out).
    /// </summary>
    public long PendingSendBytes => _layer is null ? _output.Length + _staged : _output.Length + _transport.Queue.Length + _layer.PendingOutputBytes;

    /// <summary>
    /// What the TLS handshake agreed on (protocol, cipher suite, ALPN protocol, the peer's certificate), or
    /// <see langword="null"/> for a plain connection and before the handshake is done. Set before
    /// <see cref="ConnectionHandler.OnConnected"/>; kept after the connection closes.
    /// </summary>
    public TlsConnectionInfo? Tls { get; internal set; }

    /// <summary><see langword="true"/> while pending output is above the high watermark and reading is paused for it.</summary>
    public bool IsSendBufferFull => _backpressured;

    /// <summary>Bytes received so far.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes handed to the operating system so far.</summary>
    public long BytesSent { get; private set; }

    /// <summary>
    /// Writes output in place: <see cref="IBufferWriter{T}.GetSpan"/> (or <c>GetMemory</c>) gives pooled memory at the
    /// end of the connection's output, <see cref="IBufferWriter{T}.Advance"/> commits what was written. Committed
    /// bytes are queued in order with <see cref="Send"/>'s and leave the same way: when the callback returns.
    /// </summary>
    /// <remarks>
    /// Advance counts toward the watermarks and the cap exactly as Send does. Once the connection no longer accepts
    /// output (see <see cref="Send"/>), GetSpan returns scratch memory and Advance discards it: check
    /// <see cref="IsOpen"/> or watch <see cref="ConnectionHandler.OnClosed"/>. Do not call <see cref="Send"/> between
    /// GetSpan and Advance, nor keep the span past the callback. A size hint above
    /// <see cref="TcpConnectionOptions.MaxPendingSendBytes"/> throws <see cref="ArgumentOutOfRangeException"/>: write
    /// that much in parts. Reactor thread only.
    /// </remarks>
    public IBufferWriter<byte> Output => _writer ??= new ConnectionOutput(this);

    /// <summary>Buffers this connection holds from the pool right now (send segments; reads use the reactor's buffer). For tests.</summary>
    internal int RentedBuffers => _layer is null
        ? _output.SegmentCount
        : _output.SegmentCount + _transport.Queue.SegmentCount + (_layer is TlsLayer tls ? tls.RentedBuffers : 0);

    /// <summary>Send system calls made so far, for tests that check how output was batched.</summary>
    internal long SendCalls => _transport.SendCalls;

    /// <summary>Told when the connection ends, before the handler (the server forgets it). Null for outgoing ones.</summary>
    internal Action<TcpConnection>? OnClosedInternal { get; }

    /// <summary>The options the connection was started with.</summary>
    internal TcpConnectionOptions Options => _options;

    /// <summary>
    /// <see langword="true"/> while the transport should read: the handler can take input (not paused, not held back
    /// by a full send buffer, the stream not ended), or a layer needs input (its handshake), or the connection is
    /// closing and discards input until the peer's FIN.
    /// </summary>
    internal bool WantsTransportInput
    {
        get
        {
            if (_state is ConnectionState.Connecting or ConnectionState.Closed || _transport.InputEnded)
            {
                return false;
            }

            if (_state == ConnectionState.Closing)
            {
                return true;
            }

            if (_layer is not null)
            {
                if (_layer.NeedsInput || _inputEnded)
                {
                    return true; // its handshake; or, after its end marker, on to the FIN (the layer drops the rest)
                }

                if (_state == ConnectionState.Handshaking || _layer.HasPendingInput)
                {
                    return false;
                }
            }

            return !_readingPaused && !_backpressured && !_inputEnded;
        }
    }

    /// <summary>Input is welcome: open (or half-closed by us) and neither paused nor held back, or closing (when it is discarded).</summary>
    private bool CanDeliver => _state switch
    {
        ConnectionState.Open or ConnectionState.ShuttingDown => !_readingPaused && !_backpressured && !_inputEnded,
        ConnectionState.Closing => true,
        _ => false,
    };

    private bool AcceptsOutput => _state is ConnectionState.Connecting or ConnectionState.Handshaking or ConnectionState.Open;

    /// <summary>
    /// Sends <paramref name="data"/>: copied into the connection's output and sent when the current callback returns,
    /// with everything else written to this connection meanwhile (see the class remarks for when data leaves). Reactor
    /// thread only.
    /// </summary>
    /// <param name="data">The bytes; copied (or sent) before the call returns.</param>
    /// <returns><see langword="true"/> when the bytes were accepted: they will be sent in order unless the connection
    /// fails or is aborted first. <see langword="false"/> when the connection no longer accepts data (shut down,
    /// closing or closed), or when this send would have passed <see cref="TcpConnectionOptions.MaxPendingSendBytes"/>
    /// and aborted it.</returns>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public bool Send(ReadOnlySpan<byte> data)
    {
        EnsureReactorThread();
        if (!AcceptsOutput)
        {
            return false;
        }

        if (data.IsEmpty)
        {
            return true;
        }

        if (data.Length >= WriteThroughSize && _layer is null && _state == ConnectionState.Open && !_transport.WriteBlocked)
        {
            // Large: after what was gathered before it, straight from the caller's memory. Gathering it would save
            // nothing and cost a copy.
            if (PendingSendBytes > 0 && !Flush(socketWritable: false))
            {
                return false;
            }

            if (PendingSendBytes == 0 && !_transport.WriteBlocked)
            {
                int sent = _transport.SendDirect(data);
                if (sent < 0)
                {
                    return false;
                }

                data = data[sent..];
                if (data.IsEmpty)
                {
                    return true;
                }
            }
        }

        long pending = PendingSendBytes;
        if (pending + data.Length > _options.MaxPendingSendBytes)
        {
            Overflow(pending, data.Length);
            return false;
        }

        if (!TryStage(data))
        {
            _output.Append(data);
        }

        AfterWrite();
        return true;
    }

    /// <summary>
    /// Half-closes: sends end of stream (FIN) once everything queued is sent. Reading goes on until the peer ends
    /// its stream too, then the connection closes with <see cref="ConnectionCloseReason.LocalClose"/>. Further
    /// <see cref="Send"/> calls return <see langword="false"/>. Reactor thread only; idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Shutdown() => BeginClose(ConnectionState.ShuttingDown, ConnectionCloseReason.LocalClose);

    /// <summary>
    /// Closes gracefully: stops delivering data, sends everything queued, sends end of stream, waits (discarding
    /// input) for the peer's end of stream, then closes. A peer that reads slowly, or pauses, gets everything: only
    /// when none of the queued bytes has left for <see cref="TcpConnectionOptions.CloseFlushTimeout"/> is the rest
    /// dropped (logged as a Warning) and the connection reset, with <see cref="ConnectionCloseReason.CloseTimeout"/>.
    /// Once everything is sent, a peer that does not end its stream within
    /// <see cref="TcpConnectionOptions.CloseTimeout"/> is closed on (gracefully: it has all the data). Reactor thread
    /// only; idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Close() => BeginClose(ConnectionState.Closing, _inputEnded ? ConnectionCloseReason.RemoteClose : ConnectionCloseReason.LocalClose);

    /// <summary>Resets the connection at once, dropping anything queued. Reactor thread only; idempotent.</summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Abort()
    {
        EnsureReactorThread();
        Terminate(ConnectionCloseReason.Aborted, null, reset: true);
    }

    /// <summary>Stops reading from the socket until <see cref="ResumeReading"/>: application-level flow control. Reactor thread only.</summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void PauseReading()
    {
        EnsureReactorThread();
        _readingPaused = true;
        UpdateInterest();
    }

    /// <summary>Resumes reading after <see cref="PauseReading"/>. Reactor thread only.</summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void ResumeReading()
    {
        EnsureReactorThread();
        _readingPaused = false;
        RequestDeliveryIfPending();
        UpdateInterest();
    }

    /// <inheritdoc />
    public override string ToString() => $"TcpConnection({Describe()}, {_state})";

    /// <summary>Closes gracefully, as <see cref="Close"/> does, but reports <paramref name="reason"/> (the parsing handlers' hook).</summary>
    internal void CloseFor(ConnectionCloseReason reason) => BeginClose(ConnectionState.Closing, reason);

    /// <summary>Ends the connection as a throwing callback would (the parsing handlers' hook for work that failed later).</summary>
    internal void Fault(Exception error) => HandlerFault(error);

    /// <summary>Starts an accepted (already connected) socket. Reactor thread only.</summary>
    internal void StartAccepted()
    {
        _transport.StartAccepted(Interest.Read);
        Started();
    }

    /// <summary>Charges this connection's retained output to a server-wide budget. Before it starts.</summary>
    internal void UseBudget(OutputBudget budget) => _budget = budget;

    /// <summary>Watches <paramref name="socket"/>, whose non-blocking connect is in progress. Reactor thread only.</summary>
    internal void StartConnecting(Socket socket, ConnectAttempt attempt)
    {
        _connect = attempt;
        _state = ConnectionState.Connecting;
        _transport.StartConnecting(socket);
    }

    private void Invoke(Action<ConnectionHandler, TcpConnection> callback)
    {
        try
        {
            callback(Handler, this);
        }
        catch (Exception e)
        {
            HandlerFault(e);
        }
    }

    private void HandlerFault(Exception e)
    {
        // A protocol bug costs only its own connection.
        ConnectionLog.HandlerFault(_logger, this, "a connection callback", e);
        if (ReactorMetrics.HandlerFaults.Enabled)
        {
            ReactorMetrics.HandlerFaults.Add(1, _reactor.MetricTag);
        }

        Terminate(ConnectionCloseReason.HandlerFault, e, reset: true);
    }

    private void TransportFault(Exception e)
    {
        if (e is ObjectDisposedException)
        {
            Terminate(ConnectionCloseReason.DeadSocket, e, reset: false);
            return;
        }

        ConnectionLog.LayerFault(_logger, this, _layer?.GetType().Name ?? nameof(SocketTransport), e);
        Terminate(ConnectionCloseReason.HandlerFault, e, reset: true);
    }

    private void LayerFault(Exception e)
    {
        // A layer should report what it expects through Fail; anything else is a bug that costs only this connection.
        ConnectionLog.LayerFault(_logger, this, _layer!.GetType().Name, e);
        Terminate(ConnectionCloseReason.HandlerFault, e, reset: true);
    }

    private void CountOpened()
    {
        if (ReactorMetrics.ConnectionsOpened.Enabled)
        {
            ReactorMetrics.ConnectionsOpened.Add(1, _reactor.MetricTag);
        }
    }

    /// <summary>"local &lt;-&gt; remote", for logs. Costs formatting: call only after checking the level.</summary>
    internal string Describe() => $"{LocalEndPoint?.ToString() ?? "-"} <-> {RemoteEndPoint?.ToString() ?? "-"}";

    private void EnsureReactorThread()
    {
        if (!_reactor.IsOnReactorThread)
        {
            throw new InvalidOperationException("TcpConnection members must be used on the reactor thread; use Reactor.Post from other threads.");
        }
    }
}
