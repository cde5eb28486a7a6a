using System;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>Real TCP sockets on 127.0.0.1 and ephemeral ports.</summary>
internal static class Loopback
{
    /// <summary>A connected pair: <c>Client</c> made the connection, <c>Server</c> accepted it.</summary>
    public static SocketPair Pair()
    {
        using var listener = Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Socket server = listener.Accept();
        foreach (Socket s in new[] { client, server })
        {
            s.LingerState = new LingerOption(true, 0);
            s.NoDelay = true;
        }

        return new SocketPair(client, server);
    }

    public static Socket Listen(int backlog = 512)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(backlog);
        return listener;
    }

    /// <summary>
    /// A blocking client connected to <paramref name="endPoint"/> (TCP, or a Unix socket path), with the suite's generous
    /// timeouts and, over TCP, NoDelay. With <paramref name="resetOnDispose"/> (linger 0) disposing it resets the
    /// connection instead of ending the stream, and leaves no TIME_WAIT behind.
    /// </summary>
    /// <param name="endPoint">Where to connect.</param>
    /// <param name="resetOnDispose">Linger 0: dispose resets.</param>
    /// <param name="receiveBufferSize">A receive buffer set before connecting, so that the advertised window is small from the start.</param>
    public static Socket Connect(EndPoint endPoint, bool resetOnDispose = false, int? receiveBufferSize = null)
    {
        bool tcp = endPoint is not UnixDomainSocketEndPoint;
        var client = tcp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.ReceiveTimeout = (int)Wait.Generous.TotalMilliseconds;
        client.SendTimeout = (int)Wait.Generous.TotalMilliseconds;
        if (receiveBufferSize is { } size)
        {
            client.ReceiveBufferSize = size;
        }

        client.Connect(endPoint);
        if (resetOnDispose && tcp)
        {
            client.LingerState = new LingerOption(true, 0);
        }

        return client;
    }

    /// <summary><see cref="Connect(EndPoint, bool, int?)"/> to a port on 127.0.0.1.</summary>
    public static Socket Connect(int port) => Connect(new IPEndPoint(IPAddress.Loopback, port));

    /// <summary>A port on loopback with nothing listening: bind, read the port, close.</summary>
    public static IPEndPoint UnusedEndPoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }
}

internal sealed class SocketPair(Socket client, Socket server) : IDisposable
{
    public Socket Client { get; } = client;

    public Socket Server { get; } = server;

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
