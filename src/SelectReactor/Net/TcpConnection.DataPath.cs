using System;

namespace SelectReactor.Net;

/// <content>The path of a byte: in from the transport (through the layer, if any) to the handler, and out from Send and Output, gathered until the end of the callback, through the layer, to the transport.</content>
public sealed partial class TcpConnection
{
    // In: socket → transport → (layer →) handler.

    /// <summary>Bytes read from the socket (the reactor's buffer, valid during the call).</summary>
    internal void OnTransportData(ReadOnlySpan<byte> data)
    {
        BytesReceived += data.Length;
        Touch();
        if (_layer is not null)
        {
            CallLayer(LayerCall.Receive, data);
        }
        else if (_state != ConnectionState.Closing)
        {
            DeliverToHandler(data);
        }
    }

    private void DeliverToHandler(ReadOnlySpan<byte> data)
    {
        try
        {
            Handler.OnData(this, data);
        }
        catch (Exception e)
        {
            HandlerFault(e);
        }
    }

    /// <summary>
    /// A read pass begins: until it is done, output the handler writes (and delivery a layer asks for) waits for its
    /// end rather than for the reactor's end-of-callback pass, which it comes just before anyway. Saves the pass its
    /// bookkeeping on the most common path there is: a reply written from OnData.
    /// </summary>
    internal void OnTransportReadStart() => _inOwnRead = true;

    /// <summary>A read pass is over (also after a failure): flush what it produced, or just set the interest.</summary>
    internal void OnTransportReadDone()
    {
        _inOwnRead = false;
        if (_ownReadWork)
        {
            _ownReadWork = false;
            RunDeferredWork();
        }
        else
        {
            UpdateInterest();
        }
    }

    /// <summary>The peer's FIN was read.</summary>
    internal void OnTransportEnd()
    {
        if (_layer is null)
        {
            EndOfInput();
        }
        else
        {
            CallLayer(LayerCall.TransportEnd);
        }

        if (_state is ConnectionState.ShuttingDown or ConnectionState.Closing)
        {
            AdvanceClose();
        }
    }

    private void RequestDeliveryIfPending()
    {
        if (_layer is not null && _layer.HasPendingInput)
        {
            _deliveryRequested = true;
            RequestEndOfCallback();
        }
    }

    // Out: Send / Output → the output queue → at the end of the callback → (layer →) transport → socket.

    /// <summary>
    /// Gathers a plain connection's write in the reactor's staging area when its queue is empty and the area is free
    /// (or already its own) and has room: the common reply-per-callback case then touches no queue, segment or pool.
    /// Otherwise moves anything staged into the queue, so the caller appends after it, in order.
    /// </summary>
    private bool TryStage(ReadOnlySpan<byte> data)
    {
        if (_layer is null && _state == ConnectionState.Open && _output.Length == 0 && _staged + data.Length <= SendScratch.StagingSize
            && _reactor.SendScratch.TakeStaging(this) is { } staging)
        {
            data.CopyTo(staging.AsSpan(_staged));
            _staged += data.Length;
            return true;
        }

        Unstage();
        return false;
    }

    /// <summary>Moves staged bytes into the queue (at its front: it is empty while they are staged) and frees the area.</summary>
    private void Unstage()
    {
        if (_staged > 0)
        {
            SendScratch scratch = _reactor.SendScratch;
            _output.Append(scratch.TakeStaging(this).AsSpan(0, _staged));
            _staged = 0;
            scratch.ReleaseStaging();
        }
    }

    /// <summary>
    /// Sends the staged bytes, straight from the staging area; whatever the socket does not take is copied into the
    /// queue. Either way the area is free again: it is never held past the callback that filled it.
    /// </summary>
    private void FlushStaged(bool socketWritable)
    {
        SendScratch scratch = _reactor.SendScratch;
        byte[] staging = scratch.TakeStaging(this)!;
        int staged = _staged;
        int sent = 0;
        if (socketWritable || !_transport.WriteBlocked)
        {
            sent = _transport.SendDirect(staging.AsSpan(0, staged));
            if (sent < 0 || _state == ConnectionState.Closed)
            {
                return; // the connection ended (Terminate freed the area)
            }
        }

        _staged = 0;
        if (sent < staged)
        {
            _output.Append(staging.AsSpan(sent, staged - sent));
        }

        scratch.ReleaseStaging();
    }

    internal Memory<byte> GetOutputMemory(int sizeHint)
    {
        EnsureReactorThread();
        CheckSizeHint(sizeHint);
        Unstage(); // what Output writes goes after what Send staged
        int atLeast = sizeHint > 0 ? 1 : DefaultWriterSpan;
        if (!AcceptsOutput)
        {
            int size = Math.Max(sizeHint, atLeast);
            if (_discard is null || _discard.Length < size)
            {
                _discard = new byte[size];
            }

            return _discard;
        }

        return _output.GetTailMemory(sizeHint, atLeast);
    }

    internal Span<byte> GetOutputSpan(int sizeHint)
    {
        EnsureReactorThread();
        CheckSizeHint(sizeHint);
        if (!AcceptsOutput)
        {
            return GetOutputMemory(sizeHint).Span;
        }

        Unstage(); // what Output writes goes after what Send staged

        return _output.GetTail(sizeHint, sizeHint > 0 ? 1 : DefaultWriterSpan);
    }

    /// <summary>
    /// A size hint is at least 0 and no more than the connection may ever queue: asking for more is a mistake
    /// (nothing could send it), and honouring it would allocate up to 2 GiB before the cap closed the connection.
    /// </summary>
    private void CheckSizeHint(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        if (sizeHint > _options.MaxPendingSendBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(sizeHint),
                sizeHint,
                $"More than this connection may queue (MaxPendingSendBytes, {_options.MaxPendingSendBytes} bytes): write it in parts, letting each go out first.");
        }
    }

    internal void CommitOutput(int count)
    {
        EnsureReactorThread();
        if (!AcceptsOutput)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            return; // written into scratch memory: discarded, as Send would have refused it
        }

        long before = PendingSendBytes;
        _output.Advance(count);
        if (before + count > _options.MaxPendingSendBytes)
        {
            Overflow(before, count);
            return;
        }

        AfterWrite();
    }

    /// <summary>
    /// Bytes were added to the output: flush them when the callback returns; if they take pending output past the
    /// high watermark, try the socket first, and only if it is still past, stop reading and tell the handler.
    /// </summary>
    private void AfterWrite()
    {
        RequestEndOfCallback();
        if (PendingSendBytes <= _options.SendHighWatermark)
        {
            return;
        }

        if (!_transport.WriteBlocked && !Flush(socketWritable: false))
        {
            return;
        }

        if (!_backpressured && PendingSendBytes > _options.SendHighWatermark)
        {
            _backpressured = true;
            UpdateInterest();
            Invoke(static (h, c) => h.OnSendBufferFull(c));
        }
    }

    private void Overflow(long pending, long adding)
    {
        ConnectionLog.SendBufferOverflow(_logger, this, pending, adding, _options.MaxPendingSendBytes);
        Terminate(ConnectionCloseReason.SendBufferOverflow, new InvalidOperationException(
            $"Pending output would exceed the cap of {_options.MaxPendingSendBytes} bytes (MaxPendingSendBytes); the peer is not reading."), reset: true);
    }

    private void RequestEndOfCallback()
    {
        if (_inOwnRead)
        {
            _ownReadWork = true; // done as the read pass ends (OnTransportReadDone)
        }
        else if (!_endOfCallbackQueued)
        {
            _endOfCallbackQueued = true;
            _reactor.RunAtEndOfCallback(this);
        }
    }

    /// <summary>The end of the callback in which output was written or delivery asked for.</summary>
    void IEndOfCallback.OnEndOfCallback()
    {
        _endOfCallbackQueued = false;
        RunDeferredWork();
    }

    /// <summary>
    /// What waited for the end of the callback: deliver what a layer holds (if asked and possible), then flush and
    /// settle. Anything written meanwhile (by the handler delivered to, or in OnDrained) asks for another pass.
    /// </summary>
    private void RunDeferredWork()
    {
        try
        {
            if (_deliveryRequested)
            {
                _deliveryRequested = false;
                if (CanDeliver && _layer is not null && _layer.HasPendingInput)
                {
                    CallLayer(LayerCall.DeliverPending);
                }
            }

            if (!Flush(socketWritable: false))
            {
                return;
            }

            if (_layer is null && _state == ConnectionState.Open && !_backpressured && _accountedPending == 0 && PendingSendBytes == 0)
            {
                // A plain connection whose output all left, with nothing held before either: no watermark, close step,
                // interest or account can have changed. The reply-per-callback case needs no more.
                return;
            }

            Settle();
        }
        catch (Exception e)
        {
            // Runs between callbacks, where nothing else would catch it: whatever failed (a layer, or a socket disposed
            // behind the connection's back) costs only this connection. Handler callbacks catch their own faults.
            TransportFault(e);
        }
    }

    /// <summary>
    /// Moves output toward the socket: queued plaintext through the layer (once it is open), then the transport's
    /// queue, unless a send already found the socket full and this is not a writability event. Returns
    /// <see langword="false"/> when the connection ended on the way.
    /// </summary>
    private bool Flush(bool socketWritable)
    {
        if (_state is ConnectionState.Connecting or ConnectionState.Closed)
        {
            return _state != ConnectionState.Closed; // connecting: it all waits for the connection
        }

        if (_staged > 0)
        {
            FlushStaged(socketWritable);
            if (_state == ConnectionState.Closed)
            {
                return false;
            }
        }

        if (_layer is not null && _state != ConnectionState.Handshaking && _output.Length > 0)
        {
            if (_layerBusy)
            {
                // Called from inside the layer (a handler it is delivering to sent past the watermark): the plaintext
                // goes through it as the callback ends, never re-entrantly.
                RequestEndOfCallback();
            }
            else
            {
                while (_output.Length > 0)
                {
                    ReadOnlySpan<byte> run = _output.Head;
                    if (!CallLayer(LayerCall.Write, run) || _state == ConnectionState.Closed)
                    {
                        return false;
                    }

                    _output.Consume(run.Length);
                }

                _output.TrimEmpty();
            }
        }

        if (_transport.Queue.Length > 0 && (socketWritable || !_transport.WriteBlocked))
        {
            _transport.Flush();
        }

        return _state != ConnectionState.Closed;
    }

    /// <summary>A layer queued bytes in the transport: they leave as the callback ends.</summary>
    internal void OnTransportQueued() => RequestEndOfCallback();

    /// <summary>The socket can take more: send what is queued.</summary>
    internal void OnTransportWritable()
    {
        if (Flush(socketWritable: true))
        {
            Settle();
        }
    }

    /// <summary>The transport handed <paramref name="bytes"/> to the operating system.</summary>
    internal void OnTransportSent(long bytes)
    {
        BytesSent += bytes;
        if (ReactorMetrics.BytesSent.Enabled)
        {
            ReactorMetrics.BytesSent.Add(bytes, _reactor.MetricTag);
        }

        Touch();
        if (_state == ConnectionState.Closing)
        {
            _closeProgress = _reactor.TimeProvider.GetTimestamp(); // the close's flush limit runs from the last progress
        }
    }

    /// <summary>
    /// After output moved: read again at the low watermark (telling the handler), take the next step of a close, set
    /// the interest, and account what is still held.
    /// </summary>
    private void Settle()
    {
        if (_backpressured && PendingSendBytes <= _options.SendLowWatermark)
        {
            _backpressured = false;
            Invoke(static (h, c) => h.OnDrained(c));
            if (_state == ConnectionState.Closed)
            {
                return;
            }

            RequestDeliveryIfPending();
        }

        if (_state is ConnectionState.ShuttingDown or ConnectionState.Closing)
        {
            AdvanceClose();
            if (_state == ConnectionState.Closed)
            {
                return;
            }
        }

        UpdateInterest();
        Account();
    }

    /// <summary>Reports what this connection still holds to the metrics and the server's budget (only when it changed).</summary>
    private void Account()
    {
        long held = _state == ConnectionState.Closed ? 0 : PendingSendBytes;
        long delta = held - _accountedPending;
        if (delta == 0)
        {
            return;
        }

        _accountedPending = held;
        if (ReactorMetrics.PendingSendBytes.Enabled)
        {
            ReactorMetrics.PendingSendBytes.Add(delta, _reactor.MetricTag);
        }

        if (_budget is not null && _budget.Charge(delta) && delta > 0)
        {
            _budget.OnExceeded(this);
        }
    }

    private void UpdateInterest()
    {
        if (_state != ConnectionState.Closed)
        {
            _transport.UpdateInterest(WantsTransportInput);
        }
    }
}
