using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SelectReactor.Net;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>A running reactor with a <see cref="TcpServer"/> on loopback, port 0.</summary>
internal sealed class ServerHarness : IDisposable
{
    public ServerHarness(Func<ConnectionHandler> handlerFactory, TcpServerOptions? options = null, EndPoint? endPoint = null, ReactorOptions? reactorOptions = null)
    {
        Running = new RunningReactor(reactorOptions);
        Server = new TcpServer(Running.Reactor, endPoint ?? new IPEndPoint(IPAddress.Loopback, 0), handlerFactory, options);
        Server.Start();
    }

    public RunningReactor Running { get; }

    public Reactor Reactor => Running.Reactor;

    public TcpServer Server { get; }

    public EndPoint EndPoint => Server.LocalEndPoint!;

    /// <summary>A blocking client connected to the server, with generous timeouts and linger 0.</summary>
    public Socket Connect() => Loopback.Connect(EndPoint, resetOnDispose: true);

    public void Dispose()
    {
        Server.Stop();
        Running.Dispose();
    }
}

/// <summary>Echoes everything and records how each connection ended.</summary>
internal sealed class TestEchoHandler : ConnectionHandler
{
    public ConcurrentQueue<(ConnectionCloseReason Reason, Exception? Error, int RentedBuffers, bool WasClosed)> Closes { get; } = new();

    public TaskCompletionSource<ConnectionCloseReason> FirstClose { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        Closes.Enqueue((reason, error, connection.RentedBuffers, connection.IsClosed));
        FirstClose.TrySetResult(reason);
    }
}

internal static class SocketIo
{
    /// <summary>Receives exactly <paramref name="count"/> bytes or throws.</summary>
    public static byte[] ReceiveExactly(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = socket.Receive(buffer, got, count - got, SocketFlags.None);
            if (n == 0)
            {
                throw new InvalidOperationException($"end of stream after {got} of {count} bytes");
            }

            got += n;
        }

        return buffer;
    }

    /// <summary>Reads until the peer closes, gracefully or with a reset (a handler fault resets); returns what was read.</summary>
    public static byte[] ReceiveUntilClosed(Socket socket)
    {
        using var all = new System.IO.MemoryStream();
        byte[] buffer = new byte[65536];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        return all.ToArray();
    }

    /// <summary>Reads until end of stream; returns what was read.</summary>
    public static byte[] ReceiveToEnd(Socket socket)
    {
        using var all = new System.IO.MemoryStream();
        byte[] buffer = new byte[65536];
        while (true)
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                return all.ToArray();
            }

            all.Write(buffer, 0, n);
        }
    }
}
