using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// A buffered, non-blocking TCP (or Unix domain stream) connection on a <see cref="Reactor"/>: reads into a pooled
/// buffer only when readable, sends directly when nothing is queued and queues the rest in pooled segments, applies
/// backpressure with high and low watermarks, and ends with exactly one <see cref="ConnectionHandler.OnClosed"/>.
/// </summary>
/// <remarks>
/// Created by <see cref="TcpServer"/> for accepted sockets and by <see cref="TcpConnector"/> for outgoing ones.
/// Every member must be used on the reactor thread (from a handler callback, a timer, or <see cref="Reactor.Post(Action)"/>);
/// other threads post to the reactor.
/// </remarks>
public sealed class TcpConnection
{
    private readonly Reactor _reactor;
    private readonly TcpConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly SendQueue _sendQueue = new();
    private readonly Events _events;
    private readonly Action? _onIdleCheck;
    private Registration? _registration;
    private Socket? _socket;
    private ConnectionState _state;
    private bool _endOfStream;
    private bool _finSent;
    private bool _backpressured;
    private bool _readingPaused;
    private bool _notified;
    private ConnectionCloseReason _closeReason;
    private Exception? _closeError;
    private IDisposable? _closeTimer;
    private IDisposable? _idleTimer;
    private long _lastActivity;
    private ConnectAttempt? _connect;
    private EndPoint? _localEndPoint;
    private EndPoint? _remoteEndPoint;

    internal TcpConnection(Reactor reactor, Socket? socket, ConnectionHandler handler, TcpConnectionOptions options, ILogger logger, Action<TcpConnection>? onClosed)
    {
        _reactor = reactor;
        _socket = socket;
        Handler = handler;
        _options = options;
        _logger = logger;
        OnClosedInternal = onClosed;
        _events = new Events(this);
        if (options.IdleTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            _onIdleCheck = CheckIdle;
        }
    }

    private enum ConnectionState
    {
        Connecting,
        Open,
        ShuttingDown,
        Closing,
        Closed,
    }

    /// <summary>The reactor the connection runs on.</summary>
    public Reactor Reactor => _reactor;

    /// <summary>The handler receiving this connection's events.</summary>
    public ConnectionHandler Handler { get; }

    /// <summary>
    /// The local end point, or <see langword="null"/> before the connection is established. Read from the socket on
    /// first use and kept, so connections that never ask hold no end point objects.
    /// </summary>
    public EndPoint? LocalEndPoint => _localEndPoint ??= ReadEndPoint(local: true);

    /// <summary>The remote end point, or <see langword="null"/> before the connection is established. Read on first use and kept.</summary>
    public EndPoint? RemoteEndPoint => _remoteEndPoint ??= ReadEndPoint(local: false);

    /// <summary><see langword="true"/> while the connection is established and accepts <see cref="Send"/>.</summary>
    public bool IsOpen => _state == ConnectionState.Open;

    /// <summary><see langword="true"/> once the connection has ended (its socket is disposed).</summary>
    public bool IsClosed => _state == ConnectionState.Closed;

    /// <summary>Bytes accepted by <see cref="Send"/> and not yet handed to the operating system.</summary>
    public long PendingSendBytes => _sendQueue.Length;

    /// <summary><see langword="true"/> while pending output is above the high watermark and reading is paused for it.</summary>
    public bool IsSendBufferFull => _backpressured;

    /// <summary>Bytes received so far.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes handed to the operating system so far.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Buffers this connection holds from the pool right now (send segments; reads use the reactor's buffer). For tests.</summary>
    internal int RentedBuffers => _sendQueue.SegmentCount;

    /// <summary>Told when the connection ends, before the handler (the server forgets it). Null for outgoing ones.</summary>
    internal Action<TcpConnection>? OnClosedInternal { get; }

    /// <summary>
    /// Sends <paramref name="data"/>: directly when nothing is queued, the rest queued in pooled segments and sent as
    /// the socket becomes writable. Reactor thread only.
    /// </summary>
    /// <param name="data">The bytes; copied before the call returns.</param>
    /// <returns><see langword="true"/> when the bytes were sent or queued; <see langword="false"/> when the connection
    /// no longer accepts data (shut down, closing or closed), or this send would have passed
    /// <see cref="TcpConnectionOptions.MaxPendingSendBytes"/> and aborted it.</returns>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public bool Send(ReadOnlySpan<byte> data)
    {
        EnsureReactorThread();
        if (_state != ConnectionState.Open && _state != ConnectionState.Connecting)
        {
            return false;
        }

        if (data.IsEmpty)
        {
            return true;
        }

        if (_sendQueue.Length == 0 && _state == ConnectionState.Open)
        {
            int sent = _socket!.Send(data, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
            {
                BytesSent += sent;
                CountSent(sent);
                Touch();
                if (sent == data.Length)
                {
                    return true;
                }

                data = data[sent..];
            }
            else if (error != SocketError.WouldBlock)
            {
                Fail(error);
                return false;
            }
        }

        if (_sendQueue.Length + data.Length > _options.MaxPendingSendBytes)
        {
            NetLog.SendBufferOverflow(_logger, Describe(), _sendQueue.Length, data.Length, _options.MaxPendingSendBytes);
            CloseNow(ConnectionCloseReason.SendBufferOverflow, new InvalidOperationException(
                $"Pending output would exceed the cap of {_options.MaxPendingSendBytes} bytes; the peer is not reading."), reset: true);
            return false;
        }

        _sendQueue.Append(data);
        CountPending(data.Length);
        if (!_backpressured && _sendQueue.Length > _options.SendHighWatermark)
        {
            _backpressured = true;
            UpdateInterest();
            Invoke(static (h, c) => h.OnSendBufferFull(c));
        }
        else
        {
            UpdateInterest();
        }

        return true;
    }

    /// <summary>
    /// Half-closes: sends end of stream (FIN) once everything queued is sent. Reading goes on until the peer ends
    /// its stream too, then the connection closes with <see cref="ConnectionCloseReason.LocalClose"/>. Further
    /// <see cref="Send"/> calls return <see langword="false"/>. Reactor thread only; idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Shutdown()
    {
        EnsureReactorThread();
        if (_state == ConnectionState.Connecting)
        {
            CloseNow(ConnectionCloseReason.LocalClose, null, reset: false);
            return;
        }

        if (_state != ConnectionState.Open)
        {
            return;
        }

        _state = ConnectionState.ShuttingDown;
        _closeReason = ConnectionCloseReason.LocalClose;
        ContinueFinishing();
    }

    /// <summary>
    /// Closes gracefully: stops delivering data, sends everything queued, sends end of stream, waits (discarding
    /// input) for the peer's end of stream, then closes. If that takes longer than
    /// <see cref="TcpConnectionOptions.CloseTimeout"/> the connection is dropped (reset if bytes were still queued).
    /// Reactor thread only; idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Close() => BeginClose(_endOfStream ? ConnectionCloseReason.RemoteClose : ConnectionCloseReason.LocalClose);

    /// <summary>Resets the connection at once, dropping anything queued. Reactor thread only; idempotent.</summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the reactor's.</exception>
    public void Abort()
    {
        EnsureReactorThread();
        CloseNow(ConnectionCloseReason.Aborted, null, reset: true);
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
        UpdateInterest();
    }

    /// <inheritdoc />
    public override string ToString() => $"TcpConnection({Describe()}, {_state})";

    /// <summary>Closes gracefully, as <see cref="Close"/> does, but reports <paramref name="reason"/> (the parsing handlers' hook).</summary>
    internal void CloseFor(ConnectionCloseReason reason) => BeginClose(reason);

    /// <summary>Ends the connection as a throwing callback would (the parsing handlers' hook for work that failed later).</summary>
    internal void Fault(Exception error) => HandlerFault(error);

    /// <summary>Starts an accepted (already connected) socket. Reactor thread only.</summary>
    internal void StartAccepted()
    {
        _state = ConnectionState.Open;
        _registration = _reactor.Register(_socket!, _events, Interest.Read);
        CountOpened();
        ArmIdleTimer();
        Invoke(static (h, c) => h.OnConnected(c));
    }

    /// <summary>
    /// Watches <paramref name="socket"/>, whose non-blocking connect is in progress, in place of any earlier attempt's
    /// socket. Reactor thread only.
    /// </summary>
    internal void StartConnecting(Socket socket, ConnectAttempt attempt)
    {
        Registration? previous = _registration;
        _registration = null;
        previous?.Dispose();
        _socket?.Dispose();
        _socket = socket;
        _connect = attempt;
        _state = ConnectionState.Connecting;
        _registration = _reactor.Register(socket, _events, Interest.Write | Interest.Error);
    }

    /// <summary>Ends a connection whose connect failed or timed out.</summary>
    internal void FailConnect(ConnectionCloseReason reason, Exception error) => CloseNow(reason, error, reset: false);

    private void BeginClose(ConnectionCloseReason reason)
    {
        EnsureReactorThread();
        switch (_state)
        {
            case ConnectionState.Connecting:
                CloseNow(ConnectionCloseReason.LocalClose, null, reset: false);
                return;
            case ConnectionState.Closing:
            case ConnectionState.Closed:
                return;
        }

        _state = ConnectionState.Closing;
        _closeReason = reason;
        _closeTimer = _reactor.Schedule(_options.CloseTimeout, OnCloseTimeout);
        ContinueFinishing();
    }

    /// <summary>
    /// The rest of Close and Shutdown, shared: once the queue is empty send FIN, then close with
    /// <see cref="_closeReason"/> as soon as the peer has ended its stream too. Until then keep reading (Close discards
    /// the input): closing with unread input would reset the connection and could destroy the last bytes we sent
    /// before the peer read them.
    /// </summary>
    private void ContinueFinishing()
    {
        if (_sendQueue.Length == 0)
        {
            SendFin();
            if (_endOfStream)
            {
                CloseNow(_closeReason, null, reset: false);
                return;
            }
        }

        UpdateInterest();
    }

    private void SendFin()
    {
        if (_finSent)
        {
            return;
        }

        _finSent = true;
        try
        {
            _socket!.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Expected when the peer is already gone; the read side will report what happened.
        }
    }

    private void OnCloseTimeout()
    {
        if (_state != ConnectionState.Closing)
        {
            return;
        }

        if (_sendQueue.Length > 0 || !_finSent)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string connection = Describe(); // built only when logged (CA1873)
                NetLog.CloseTimedOut(_logger, connection, _sendQueue.Length);
            }

            CloseNow(ConnectionCloseReason.CloseTimeout, null, reset: true);
        }
        else
        {
            // Everything was sent; the peer just never ended its stream. The close itself succeeded.
            CloseNow(_closeReason, null, reset: false);
        }
    }

    private void OnReadable()
    {
        if (_state == ConnectionState.Connecting)
        {
            CompleteConnect();
            return;
        }

        if (_state == ConnectionState.Closed)
        {
            return;
        }

        // The reactor's one receive buffer: callbacks never overlap on a reactor, so every connection can read into
        // the same memory and an idle connection holds none. The span handed to OnData is valid only during the call.
        int size = _options.ReceiveBufferSize;
        Span<byte> buffer = _reactor.ReceiveBuffer(size).AsSpan(0, size);
        for (int reads = 0; reads < _options.MaxReadsPerReadiness; reads++)
        {
            int n = _socket!.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success)
            {
                if (error != SocketError.WouldBlock)
                {
                    Fail(error);
                }

                break;
            }

            if (n == 0)
            {
                OnEndOfStream();
                break;
            }

            BytesReceived += n;
            if (ReactorMetrics.BytesReceived.Enabled)
            {
                ReactorMetrics.BytesReceived.Add(n, _reactor.MetricTag);
            }

            Touch();
            if (_state == ConnectionState.Closing)
            {
                continue; // discarding input while waiting for the peer's FIN
            }

            try
            {
                Handler.OnData(this, buffer[..n]);
            }
            catch (Exception e)
            {
                HandlerFault(e);
            }

            if (!WantsToRead)
            {
                break;
            }

            if (n < size)
            {
                // A short read almost always means the socket is drained: skip the read that would say WouldBlock.
                break;
            }
        }

        UpdateInterest();
    }

    private void OnEndOfStream()
    {
        _endOfStream = true;
        switch (_state)
        {
            case ConnectionState.Open:
                UpdateInterest();
                Invoke(static (h, c) => h.OnRemoteShutdown(c));
                break;
            case ConnectionState.ShuttingDown or ConnectionState.Closing when _finSent:
                CloseNow(_closeReason, null, reset: false);
                break;
        }
    }

    private void OnWritable()
    {
        if (_state == ConnectionState.Connecting)
        {
            CompleteConnect();
            return;
        }

        if (_state == ConnectionState.Closed)
        {
            return;
        }

        while (_sendQueue.Length > 0)
        {
            ReadOnlySpan<byte> head = _sendQueue.Head;
            int sent = _socket!.Send(head, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success)
            {
                if (error != SocketError.WouldBlock)
                {
                    Fail(error);
                    return;
                }

                break;
            }

            _sendQueue.Consume(sent);
            CountPending(-sent);
            BytesSent += sent;
            CountSent(sent);
            Touch();
            if (sent < head.Length)
            {
                break; // the kernel's buffer is full; wait for the next writable
            }
        }

        if (_backpressured && _sendQueue.Length <= _options.SendLowWatermark)
        {
            _backpressured = false;
            UpdateInterest();
            Invoke(static (h, c) => h.OnDrained(c));
            if (_state == ConnectionState.Closed)
            {
                return;
            }
        }

        if (_sendQueue.Length == 0 && (_state is ConnectionState.Closing or ConnectionState.ShuttingDown))
        {
            ContinueFinishing();
            return;
        }

        UpdateInterest();
    }

    private void OnError()
    {
        if (_state == ConnectionState.Connecting)
        {
            CompleteConnect();
            return;
        }

        // Urgent data or a pending error on an established connection: a read surfaces the error, if any.
        OnReadable();
    }

    private void CompleteConnect()
    {
        Socket socket = _socket!;
        int code = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        ConnectAttempt? attempt = _connect;
        if (code != 0)
        {
            // The connector tries the next address, or fails the connection.
            attempt?.Failed((SocketError)code);
            return;
        }

        _connect = null;
        _ = socket.Connected; // lets the runtime record the completed non-blocking connect (end points, state)
        _state = ConnectionState.Open;
        attempt?.Succeeded();
        CountOpened();
        ArmIdleTimer();
        UpdateInterest();
        Invoke(static (h, c) => h.OnConnected(c));
        if (_state == ConnectionState.Open && _sendQueue.Length > 0)
        {
            OnWritable();
        }
    }

    private bool WantsToRead => !_endOfStream && !_readingPaused && !_backpressured
        && (_state == ConnectionState.Open || _state == ConnectionState.ShuttingDown || _state == ConnectionState.Closing);

    private void UpdateInterest()
    {
        Registration? registration = _registration;
        if (registration is null || _state == ConnectionState.Closed)
        {
            return;
        }

        Interest interest;
        if (_state == ConnectionState.Connecting)
        {
            interest = Interest.Write | Interest.Error;
        }
        else
        {
            // While closing, input is discarded, so backpressure and pauses no longer apply to reading.
            bool read = _state == ConnectionState.Closing ? !_endOfStream : WantsToRead;
            interest = (read ? Interest.Read : Interest.None) | (_sendQueue.Length > 0 ? Interest.Write : Interest.None);
        }

        registration.Interest = interest;
    }

    private void Fail(SocketError error)
    {
        var exception = new SocketException((int)error);
        if (error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string connection = Describe(); // built only when logged (CA1873)
                NetLog.ConnectionReset(_logger, connection, error);
            }

            CloseNow(ConnectionCloseReason.ConnectionReset, exception, reset: false);
        }
        else
        {
            NetLog.ConnectionSocketError(_logger, Describe(), error, exception);
            CloseNow(ConnectionCloseReason.SocketError, exception, reset: false);
        }
    }

    /// <summary>
    /// Ends the connection now: unregisters, disposes the socket (with a reset when asked), returns every buffer.
    /// The handler hears of it through the registration's OnClosed, which the reactor delivers once the current
    /// callback has returned, so a close never re-enters the handler.
    /// </summary>
    private void CloseNow(ConnectionCloseReason reason, Exception? error, bool reset)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        if (_state != ConnectionState.Connecting)
        {
            // Read now, while the socket exists, so OnClosed handlers and logs can still name the peer.
            _ = LocalEndPoint;
            _ = RemoteEndPoint;
        }

        _state = ConnectionState.Closed;
        _closeReason = reason;
        _closeError = error;
        _closeTimer?.Dispose();
        _idleTimer?.Dispose();
        if (reset)
        {
            try
            {
                _socket!.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Expected when the socket already died; disposing below is all that is left to do.
            }
        }

        CountPending(-_sendQueue.Length);
        _sendQueue.Clear();

        Registration? registration = _registration;
        _connect?.Cancel();
        _connect = null;
        if (registration is not null && registration.IsActive)
        {
            registration.Dispose();
            _socket?.Dispose();
        }
        else
        {
            _socket?.Dispose();
            if (registration is null)
            {
                // Never registered (a connect that failed before it started): notify on the next tick, not re-entrantly.
                _reactor.Post(static c => c.NotifyClosed(), this);
            }
        }
    }

    private void OnRegistrationClosed(CloseReason reason, Exception? error)
    {
        if (_state != ConnectionState.Closed)
        {
            // The reactor ended the registration itself.
            ConnectionCloseReason mapped = reason switch
            {
                CloseReason.DeadSocket => ConnectionCloseReason.DeadSocket,
                CloseReason.ReactorDisposed => ConnectionCloseReason.ReactorDisposed,
                CloseReason.HandlerFault => ConnectionCloseReason.HandlerFault,
                _ => ConnectionCloseReason.Aborted,
            };
            CloseNow(mapped, error, reset: reason == CloseReason.ReactorDisposed);
        }

        NotifyClosed();
    }

    private void NotifyClosed()
    {
        if (_notified)
        {
            return;
        }

        _notified = true;
        if (ReactorMetrics.ConnectionsClosed.Enabled)
        {
            ReactorMetrics.ConnectionsClosed.Add(1, _reactor.MetricTag, new(ReactorMetrics.CloseReasonTag, _closeReason.ToString()));
        }

        OnClosedInternal?.Invoke(this);
        try
        {
            Handler.OnClosed(this, _closeReason, _closeError);
        }
        catch (Exception e)
        {
            // The connection is over either way; a faulty OnClosed is logged and forgotten.
            NetLog.HandlerFault(_logger, Describe(), nameof(ConnectionHandler.OnClosed), e);
        }
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
        NetLog.HandlerFault(_logger, Describe(), "a connection callback", e);
        if (ReactorMetrics.HandlerFaults.Enabled)
        {
            ReactorMetrics.HandlerFaults.Add(1, _reactor.MetricTag);
        }

        CloseNow(ConnectionCloseReason.HandlerFault, e, reset: true);
    }

    private void CountOpened()
    {
        if (ReactorMetrics.ConnectionsOpened.Enabled)
        {
            ReactorMetrics.ConnectionsOpened.Add(1, _reactor.MetricTag);
        }
    }

    private void CountSent(int bytes)
    {
        if (ReactorMetrics.BytesSent.Enabled)
        {
            ReactorMetrics.BytesSent.Add(bytes, _reactor.MetricTag);
        }
    }

    private void CountPending(long delta)
    {
        if (delta != 0 && ReactorMetrics.PendingSendBytes.Enabled)
        {
            ReactorMetrics.PendingSendBytes.Add(delta, _reactor.MetricTag);
        }
    }

    private void ArmIdleTimer()
    {
        if (_onIdleCheck is not null)
        {
            _lastActivity = _reactor.TimeProvider.GetTimestamp();
            _idleTimer = _reactor.Schedule(_options.IdleTimeout, _onIdleCheck);
        }
    }

    /// <summary>Notes progress for the idle timeout: a timestamp, not a timer reset, so it costs next to nothing.</summary>
    private void Touch()
    {
        if (_onIdleCheck is not null)
        {
            _lastActivity = _reactor.TimeProvider.GetTimestamp();
        }
    }

    private void CheckIdle()
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        TimeSpan idleFor = _reactor.TimeProvider.GetElapsedTime(_lastActivity);
        if (idleFor >= _options.IdleTimeout)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string connection = Describe(); // built only when logged (CA1873)
                NetLog.IdleTimeout(_logger, connection, idleFor);
            }

            if (_state is ConnectionState.Closing)
            {
                return;
            }

            BeginClose(ConnectionCloseReason.IdleTimeout);
            return;
        }

        // There was activity: one timer per idle period, re-armed for the time that is left.
        _idleTimer = _reactor.Schedule(_options.IdleTimeout - idleFor, _onIdleCheck!);
    }

    private EndPoint? ReadEndPoint(bool local)
    {
        if (_socket is null || _state is ConnectionState.Connecting or ConnectionState.Closed)
        {
            return null;
        }

        try
        {
            return local ? _socket.LocalEndPoint : _socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Expected once the socket is gone (or the peer reset before anyone asked): there is nothing to report.
            return null;
        }
    }

    private string Describe() => $"{LocalEndPoint?.ToString() ?? "-"} <-> {RemoteEndPoint?.ToString() ?? "-"}";

    private void EnsureReactorThread()
    {
        if (!_reactor.IsOnReactorThread)
        {
            throw new InvalidOperationException("TcpConnection members must be used on the reactor thread; use Reactor.Post from other threads.");
        }
    }

    /// <summary>The reactor-facing side: kept apart so that the public type does not expose IEventHandler.</summary>
    private sealed class Events(TcpConnection connection) : IEventHandler
    {
        public void OnReadable(Registration registration) => connection.OnReadable();

        public void OnWritable(Registration registration) => connection.OnWritable();

        public void OnError(Registration registration) => connection.OnError();

        public void OnClosed(Registration registration, CloseReason reason, Exception? error)
        {
            // A registration replaced by the connector's next attempt is not the connection's end.
            if (ReferenceEquals(registration, connection._registration))
            {
                connection.OnRegistrationClosed(reason, error);
            }
        }
    }
}
