using System;
using System.Net;
using SelectReactor.Net;

namespace EchoServer;

/// <summary>Sends every datagram back to where it came from, without allocating.</summary>
internal sealed class UdpEchoHandler : DatagramHandler
{
    public override void OnDatagram(UdpEndpoint endpoint, ReadOnlySpan<byte> data, SocketAddress remote) => endpoint.SendTo(data, remote);
}
