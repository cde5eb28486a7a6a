using System;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor.Benchmarks;

/// <summary>Connected, non-blocking TCP loopback socket pairs for benchmarks.</summary>
internal sealed class LoopbackPairs : IDisposable
{
    private readonly Socket[] _clients;

    public LoopbackPairs(int count)
    {
        _clients = new Socket[count];
        Servers = new Socket[count];
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4096);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Connect then accept one at a time, so the backlog never fills however many pairs are asked for.
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _clients[i] = client;
                client.Connect(endPoint);
                Socket server = listener.Accept();
                Servers[i] = server;
                client.Blocking = false;
                server.Blocking = false;
                client.NoDelay = true;
                server.NoDelay = true;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The accepted (server) ends; nothing is ever sent to them, so they are never readable.</summary>
    public Socket[] Servers { get; }

    /// <summary>The connecting ends.</summary>
    public Socket[] Clients => _clients;

    public void Dispose()
    {
        foreach (Socket? s in Servers)
        {
            s?.Dispose();
        }

        foreach (Socket? s in _clients)
        {
            s?.Dispose();
        }
    }
}

/// <summary>A handler that does nothing but count readiness callbacks.</summary>
internal sealed class CountingHandler : IEventHandler
{
    public long Count;

    public void OnReadable(Registration registration) => Count++;

    public void OnWritable(Registration registration) => Count++;

    public void OnError(Registration registration) => Count++;

    public void OnClosed(Registration registration, CloseReason reason, Exception? error)
    {
    }
}
