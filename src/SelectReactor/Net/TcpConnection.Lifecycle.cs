using System;
using System.Net.Sockets;

namespace SelectReactor.Net;

/// <content>How a connection starts and ends: the state machine, graceful closing and its timers, the idle timeout, and the one OnClosed.</content>
public sealed partial class TcpConnection
{
    // The lifecycle, one state at a time:
    //
    //   Connecting ──connect done──▶ Handshaking ──layer opens──▶ Open ──Shutdown()──▶ ShuttingDown
    //       │    (no layer: straight to Open;      │                 │                     │
    //       │     accepted sockets start here)     │                 │ Close(),            │ Close()
    //       │                                      │                 │ idle timeout        ▼
    //       │ connect failed, Close()              │ layer failed,   └──────────────────▶ Closing
    //       ▼                                      ▼ Close()
    //     Closed ◀──────────────────────────────────
    //
    // ShuttingDown and Closing finish the same way, step by step in AdvanceClose: send every byte (plaintext through
    // the layer), let the layer write its closing bytes (TLS close_notify), send FIN, and end gracefully once the
    // peer's FIN has been read as well (LocalClose, or RemoteClose if the peer ended first), so that closing never
    // turns into a reset that could destroy the last bytes sent. ShuttingDown keeps delivering input and has no time
    // limit (IdleTimeout still applies). Closing discards input and has two: while output is pending, no byte
    // leaving for CloseFlushTimeout (then the rest is dropped with a Warning and the connection reset: CloseTimeout);
    // once FIN is out, CloseTimeout waiting for the peer's FIN (then it ends gracefully: everything was sent).
    //
    // From any state Terminate ends at once: Abort, a handler or layer fault, a socket error or reset, the send cap or
    // the server's budget, the reactor ending the registration. Closed is final; OnClosed follows exactly once, after
    // the callback in which the connection ended. The peer's FIN while Open is not a state: reading stops
    // (_inputEnded) and the handler hears OnRemoteShutdown.
    private enum ConnectionState
    {
        Connecting,
        Handshaking,
        Open,
        ShuttingDown,
        Closing,
        Closed,
    }

    /// <summary>A non-blocking connect finished: established, or failed with <paramref name="error"/>.</summary>
    internal void OnConnectCompleted(SocketError error)
    {
        ConnectAttempt? attempt = _connect;
        if (error != SocketError.Success)
        {
            // The connector tries the next address, or fails the connection.
            attempt?.Failed(error);
            return;
        }

        _connect = null;
        attempt?.Succeeded();
        Started();
    }

    /// <summary>The socket is connected (accepted, or the connect completed): handshake through the layer, or open.</summary>
    private void Started()
    {
        CountOpened();
        ArmIdleTimer();
        if (_layer is null)
        {
            Open();
            return;
        }

        _state = ConnectionState.Handshaking;
        if (!CallLayer(LayerCall.Start))
        {
            return;
        }

        RequestEndOfCallback(); // the layer's handshake bytes
        UpdateInterest();
    }

    private void Open()
    {
        if (_state is not (ConnectionState.Connecting or ConnectionState.Handshaking))
        {
            return;
        }

        _state = ConnectionState.Open;
        UpdateInterest();
        Invoke(static (h, c) => h.OnConnected(c));
        if (_state != ConnectionState.Open)
        {
            return;
        }

        RequestEndOfCallback(); // output queued while connecting or handshaking
        RequestDeliveryIfPending();
    }

    /// <summary>Shutdown and Close: the move to ShuttingDown or Closing (see the state diagram), then the first step.</summary>
    private void BeginClose(ConnectionState next, ConnectionCloseReason reason)
    {
        EnsureReactorThread();
        switch (_state)
        {
            case ConnectionState.Connecting or ConnectionState.Handshaking:
                Terminate(reason, null, reset: false); // nothing of the handler's was sent yet: nothing to flush
                return;
            case ConnectionState.Closing or ConnectionState.Closed:
            case ConnectionState.ShuttingDown when next == ConnectionState.ShuttingDown:
                return;
        }

        _state = next;
        _closeReason = reason;
        if (next == ConnectionState.Closing)
        {
            _closeProgress = _reactor.TimeProvider.GetTimestamp();
            RequestDeliveryIfPending(); // input a layer still holds is discarded now, not left to block reading
        }

        RequestEndOfCallback();
        if (_layer is null)
        {
            // (A layer is never called back from inside its own call, which this may be: its closing step runs as the
            // callback ends, in Settle.)
            AdvanceClose();
        }

        if (_state == ConnectionState.Closing && _closeTimer is null)
        {
            // AdvanceClose armed CloseTimeout if it sent FIN just now; otherwise the flush has its own limit.
            ArmCloseTimer(_transport.FinSent ? _options.CloseTimeout : _options.CloseFlushTimeout);
        }

        UpdateInterest();
    }

    /// <summary>
    /// The next step of a graceful end, run whenever what it waits for may have happened (output drained, the peer's
    /// FIN read): once nothing is pending, the layer's closing bytes; once they are sent, FIN; once the peer's FIN has
    /// been read too, the end.
    /// </summary>
    private void AdvanceClose()
    {
        if (PendingSendBytes > 0)
        {
            return; // flushed as the callback ends, or as the socket becomes writable
        }

        if (_layer is not null && !_outputShut)
        {
            if (_layerBusy)
            {
                RequestEndOfCallback(); // never re-entrantly: the layer closes its side as the callback ends
                return;
            }

            _outputShut = true;
            if (!CallLayer(LayerCall.ShutdownOutput))
            {
                return;
            }

            if (PendingSendBytes > 0)
            {
                RequestEndOfCallback();
                return;
            }
        }

        if (!_transport.FinSent)
        {
            _transport.SendFin();
            if (_state == ConnectionState.Closing)
            {
                ArmCloseTimer(_options.CloseTimeout); // from now on only the peer's FIN is awaited
            }
        }

        if (_transport.InputEnded)
        {
            Terminate(_closeReason, null, reset: false);
        }
    }

    private void ArmCloseTimer(TimeSpan due)
    {
        _closeTimer?.Dispose();
        _closeTimer = due == System.Threading.Timeout.InfiniteTimeSpan ? null : _reactor.Schedule(due, _onCloseTimer);
    }

    /// <summary>
    /// The close's two limits. Flushing: give up only when no byte has left for CloseFlushTimeout, so a slow reader
    /// that keeps reading, or pauses for less than that, is never cut off. FIN sent: the peer has had CloseTimeout to
    /// end its stream; everything was delivered to it, so that end is still graceful.
    /// </summary>
    private void OnCloseTimer()
    {
        if (_state != ConnectionState.Closing)
        {
            return;
        }

        if (!_transport.FinSent)
        {
            TimeSpan stalled = _reactor.TimeProvider.GetElapsedTime(_closeProgress);
            if (stalled < _options.CloseFlushTimeout)
            {
                ArmCloseTimer(_options.CloseFlushTimeout - stalled); // bytes moved meanwhile: wait from the last progress
                return;
            }

            long unsent = PendingSendBytes;
            ConnectionLog.CloseFlushStalled(_logger, this, unsent, stalled);
            Terminate(ConnectionCloseReason.CloseTimeout, new TimeoutException(
                $"Closing, the peer accepted none of the last {unsent} bytes for {stalled.TotalSeconds:0.#} s (CloseFlushTimeout); they were dropped."), reset: true);
            return;
        }

        ConnectionLog.PeerDidNotClose(_logger, this, _options.CloseTimeout);
        Terminate(_closeReason, null, reset: false);
    }

    /// <summary>The stream ended at the handler's level: the socket's FIN, or a layer's end marker.</summary>
    private void EndOfInput()
    {
        if (_inputEnded || _state == ConnectionState.Closed)
        {
            return;
        }

        _inputEnded = true;
        if (_state == ConnectionState.Open)
        {
            UpdateInterest();
            Invoke(static (h, c) => h.OnRemoteShutdown(c));
        }
    }

    /// <summary>
    /// Ends the connection now: the socket is disposed (with a reset, linger 0, when <paramref name="reset"/>), queued
    /// output dropped, timers cancelled. The handler hears of it through OnClosed once
    /// the current callback has returned, so an end never re-enters the handler. Idempotent: the first reason wins.
    /// </summary>
    internal void Terminate(ConnectionCloseReason reason, Exception? error, bool reset)
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

        long unsent = PendingSendBytes;
        if (unsent > 0 && reason is ConnectionCloseReason.ReactorDisposed or ConnectionCloseReason.DeadSocket)
        {
            // Dropping data must never be quiet. (Abort asked for it; a reset peer cannot take it; overflow, budget,
            // a stalled close and a faulty handler log their own line.)
            ConnectionLog.UnsentDropped(_logger, this, unsent, reason);
        }

        _state = ConnectionState.Closed;
        _closeReason = reason;
        _closeError = error;
        _closeTimer?.Dispose();
        _idleTimer?.Dispose();
        _connect?.Cancel();
        _connect = null;
        if (_layer is not null)
        {
            _output.Clear();
        }

        if (_staged > 0)
        {
            _staged = 0;
            _reactor.SendScratch.ReleaseStaging();
        }

        bool reported = _transport.Close(reset);
        Account();
        if (!reported)
        {
            // Never registered (a connect that failed or was abandoned before it started): notify on the next tick,
            // not re-entrantly, or as the reactor drops the notification.
            try
            {
                _reactor.Post(new LateNotification(this));
            }
            catch (ObjectDisposedException)
            {
                // Expected after the reactor's shutdown (a name lookup ending later): nothing of it runs any more, so
                // this thread cannot overlap its callbacks.
                NotifyClosed();
            }
        }
    }

    /// <summary>A receive or send failed: a reset peer ends the connection quietly, anything else with a Warning.</summary>
    internal void OnTransportError(SocketError error)
    {
        var exception = new SocketException((int)error);
        if (error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            ConnectionLog.ConnectionReset(_logger, this, error);
            Terminate(ConnectionCloseReason.ConnectionReset, exception, reset: false);
        }
        else
        {
            ConnectionLog.SocketError(_logger, this, error, exception);
            Terminate(ConnectionCloseReason.SocketError, exception, reset: false);
        }
    }

    /// <summary>The server's budget for pending output ran out and this connection held the most: abort it.</summary>
    internal void Evict(long budget) => Terminate(ConnectionCloseReason.SendBufferOverflow, new InvalidOperationException(
        $"The server's connections held more unsent output than its budget of {budget} bytes (MaxPendingSendBytesTotal), and this one held the most."), reset: true);

    /// <summary>The registration ended: our own Terminate, or the reactor's doing (disposed, dead socket, a fault).</summary>
    internal void OnTransportClosed(CloseReason reason, Exception? error)
    {
        if (_state != ConnectionState.Closed)
        {
            ConnectionCloseReason mapped = reason switch
            {
                CloseReason.DeadSocket => ConnectionCloseReason.DeadSocket,
                CloseReason.ReactorDisposed => ConnectionCloseReason.ReactorDisposed,
                CloseReason.HandlerFault => ConnectionCloseReason.HandlerFault,
                _ => ConnectionCloseReason.Aborted,
            };
            Terminate(mapped, error, reset: reason == CloseReason.ReactorDisposed);
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
        if (_layer is not null)
        {
            try
            {
                _layer.OnClosed();
            }
            catch (Exception e)
            {
                // The connection is over either way; a layer that fails to clean up is logged and forgotten.
                ConnectionLog.LayerFault(_logger, this, _layer.GetType().Name, e);
            }
        }

        try
        {
            Handler.OnClosed(this, _closeReason, _closeError);
        }
        catch (Exception e)
        {
            // The connection is over either way; a faulty OnClosed is logged and forgotten.
            ConnectionLog.HandlerFault(_logger, this, nameof(ConnectionHandler.OnClosed), e);
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
            ConnectionLog.IdleTimeout(_logger, this, idleFor);
            if (_state is ConnectionState.Closing)
            {
                return; // the close's own limits govern now
            }

            BeginClose(ConnectionState.Closing, ConnectionCloseReason.IdleTimeout);
            return;
        }

        // There was activity: one timer per idle period, re-armed for the time that is left.
        _idleTimer = _reactor.Schedule(_options.IdleTimeout - idleFor, _onIdleCheck!);
    }

    /// <summary>The OnClosed of a connection that never had a registration to report its end: run, or dropped, it notifies.</summary>
    private sealed class LateNotification(TcpConnection connection) : IReactorWork
    {
        public void Run() => connection.NotifyClosed();

        public void Drop() => connection.NotifyClosed();
    }
}
