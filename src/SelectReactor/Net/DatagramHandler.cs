using System;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor.Net;

/// <summary>
/// The events of a <see cref="UdpEndpoint"/>. Every method runs on the reactor thread. An exception thrown from
/// <see cref="OnDatagram"/> is logged and the endpoint goes on with the next datagram.
/// </summary>
public abstract class DatagramHandler
{
    /// <summary>A datagram arrived.</summary>
    /// <param name="endpoint">The endpoint it arrived on; reply with <see cref="UdpEndpoint.SendTo(ReadOnlySpan{byte}, SocketAddress)"/>.</param>
    /// <param name="data">Its bytes, valid only during the call.</param>
    /// <param name="remote">Its sender, valid only during the call (the endpoint reuses it): copy it, or make an
    /// <see cref="EndPoint"/> with <c>IPEndPoint.Create</c>, to keep it.</param>
    public abstract void OnDatagram(UdpEndpoint endpoint, ReadOnlySpan<byte> data, SocketAddress remote);

    /// <summary>
    /// A datagram was larger than <see cref="UdpEndpointOptions.MaxDatagramSize"/> and was cut short; its first bytes
    /// are given. Default: nothing (the datagram is dropped; <see cref="UdpEndpoint.DatagramsTruncated"/> counts it).
    /// </summary>
    /// <param name="endpoint">The endpoint it arrived on.</param>
    /// <param name="truncated">The bytes that fitted, valid only during the call.</param>
    /// <param name="remote">Its sender, valid only during the call.</param>
    public virtual void OnTruncated(UdpEndpoint endpoint, ReadOnlySpan<byte> truncated, SocketAddress remote)
    {
    }

    /// <summary>
    /// A receive or send reported an error that does not end the endpoint, such as an ICMP port-unreachable for an
    /// earlier send (seen as <see cref="SocketError.ConnectionReset"/> or <see cref="SocketError.ConnectionRefused"/>).
    /// Default: nothing.
    /// </summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="error">The error.</param>
    public virtual void OnError(UdpEndpoint endpoint, SocketError error)
    {
    }

    /// <summary>The endpoint ended; called exactly once, last. Default: nothing.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="error">Why, when it was not disposed by its owner (for example the reactor died).</param>
    public virtual void OnClosed(UdpEndpoint endpoint, Exception? error)
    {
    }
}
