using System;
using SelectReactor.Net;

namespace EchoServer;

/// <summary>
/// Sends every byte back. Stateless, so one instance serves every connection. Backpressure needs no code here: when
/// a client stops reading, pending output passes the high watermark and the connection stops reading from it.
/// The default <see cref="ConnectionHandler.OnRemoteShutdown"/> finishes echoing and then closes.
/// </summary>
internal sealed class EchoHandler : ConnectionHandler
{
    public static readonly EchoHandler Instance = new();

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);
}
