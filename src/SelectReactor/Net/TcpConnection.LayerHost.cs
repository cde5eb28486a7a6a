using System;
using System.Buffers;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <content>The connection as a ConnectionLayer sees it (IConnectionLayerHost).</content>
public sealed partial class TcpConnection
{
    /// <summary>The calls a connection makes into its layer, all through <see cref="CallLayer"/>.</summary>
    private enum LayerCall
    {
        Start,
        Receive,
        TransportEnd,
        DeliverPending,
        Write,
        ShutdownOutput,
    }

    /// <summary>
    /// A layer's write at least this large, with nothing queued, goes to the socket at once: a full TLS record (16 KiB
    /// of plaintext) is past it, so streaming copies no ciphertext, while small records still gather into one send.
    /// </summary>
    internal const int LayerWriteThroughSize = 8 * 1024;

    Reactor IConnectionLayerHost.Reactor => _reactor;

    ILogger IConnectionLayerHost.Logger => _logger;

    TcpConnection IConnectionLayerHost.Connection => this;

    IBufferWriter<byte> IConnectionLayerHost.Transport => _transport;

    bool IConnectionLayerHost.CanDeliver => CanDeliver;

    void IConnectionLayerHost.WriteToTransport(ReadOnlySpan<byte> data)
    {
        if (data.Length >= LayerWriteThroughSize && _transport.Queue.Length == 0 && !_transport.WriteBlocked
            && _state is ConnectionState.Open or ConnectionState.ShuttingDown or ConnectionState.Closing)
        {
            // A large piece (a full TLS record) with nothing queued before it: straight to the socket from the layer's
            // memory, as a large Send on a plain connection does, instead of a copy into the queue first.
            int sent = _transport.SendDirect(data);
            if (sent < 0)
            {
                return; // the socket failed; the connection has ended
            }

            data = data[sent..];
            if (data.IsEmpty)
            {
                return;
            }
        }

        _transport.Write(data);
    }

    void IConnectionLayerHost.Deliver(ReadOnlySpan<byte> data)
    {
        switch (_state)
        {
            case ConnectionState.Closing or ConnectionState.Closed:
                return; // discarded: the handler closed, or the connection ended inside this very call
            case ConnectionState.Open or ConnectionState.ShuttingDown when CanDeliver:
                DeliverToHandler(data);
                return;
            default:
                // Not losing bytes quietly: a layer that delivers while it may not has a bug, which ends the connection.
                throw new InvalidOperationException($"A connection layer delivered {data.Length} bytes while the connection could not take them ({_state}, paused {_readingPaused}, full {_backpressured}, ended {_inputEnded}); deliver only while CanDeliver.");
        }
    }

    void IConnectionLayerHost.DeliverEndOfStream() => EndOfInput();

    void IConnectionLayerHost.Open() => Open();

    void IConnectionLayerHost.Fail(ConnectionCloseReason reason, Exception error)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        // What the layer queued last (a TLS alert, say) gets one try at the socket, without waiting, then the end.
        if (_transport.Queue.Length > 0 && !_transport.WriteBlocked && _state != ConnectionState.Connecting)
        {
            _transport.Flush();
        }

        Terminate(reason, error, reset: false);
    }

    void IConnectionLayerHost.RequestDelivery()
    {
        if (_state != ConnectionState.Closed)
        {
            _deliveryRequested = true;
            RequestEndOfCallback();
        }
    }

    /// <summary>
    /// Calls the layer. Every call goes through here: it marks the layer busy, so that nothing calls it again from
    /// inside (a handler it delivers to may send, close or resume; those steps wait for the end of the callback), and
    /// it turns an exception into a layer fault that ends only this connection. False when the layer threw.
    /// </summary>
    private bool CallLayer(LayerCall call, ReadOnlySpan<byte> data = default)
    {
        ConnectionLayer layer = _layer!;
        bool wasBusy = _layerBusy;
        _layerBusy = true;
        try
        {
            switch (call)
            {
                case LayerCall.Start:
                    layer.OnStart();
                    break;
                case LayerCall.Receive:
                    layer.OnReceived(data);
                    break;
                case LayerCall.TransportEnd:
                    layer.OnTransportEnd();
                    break;
                case LayerCall.DeliverPending:
                    layer.DeliverPending();
                    break;
                case LayerCall.Write:
                    layer.Write(data);
                    break;
                default:
                    layer.OnShutdownOutput();
                    break;
            }

            return true;
        }
        catch (Exception e)
        {
            LayerFault(e);
            return false;
        }
        finally
        {
            _layerBusy = wasBusy;
        }
    }
}
