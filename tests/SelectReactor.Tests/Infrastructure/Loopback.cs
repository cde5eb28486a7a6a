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
