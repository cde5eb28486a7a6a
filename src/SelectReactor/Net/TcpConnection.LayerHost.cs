using System;
using System.Buffers;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <content>The connection as a ConnectionLayer sees it (IConnectionLayerHost).</content>
public sealed partial class TcpConnection
{
    Reactor IConnectionLayerHost.Reactor => _reactor;

    ILogger IConnectionLayerHost.Logger => _logger;

    TcpConnection IConnectionLayerHost.Connection => this;

    IBufferWriter<byte> IConnectionLayerHost.Transport => _transport;

    bool IConnectionLayerHost.CanDeliver => CanDeliver;

    void IConnectionLayerHost.WriteToTransport(ReadOnlySpan<byte> data) => _transport.Write(data);

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

    void IConnectionLayerHost.Fail(ConnectionCloseReason reason, Exception error) => Terminate(reason, error, reset: true);

    void IConnectionLayerHost.RequestDelivery()
    {
        if (_state != ConnectionState.Closed)
        {
            _deliveryRequested = true;
            RequestEndOfCallback();
        }
    }
}
