using System;
using System.Net;
using System.Threading;
using SelectReactor;
using SelectReactor.Net;

// A Redis-like line server for the strace proof of batched output: every request line gets its own reply, sent with
// its own Send call. Prints "listening on HOST:PORT", serves until stdin closes, then stops.
using var reactor = new Reactor();
using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new PongHandler());
server.Start();
Console.WriteLine($"listening on {server.LocalEndPoint}");
var loop = new Thread(() => reactor.Run()) { Name = "reactor" };
loop.Start();
Console.In.ReadToEnd();
reactor.Stop();
loop.Join();

/// <summary>Answers each line with "+PONG\r\n", one Send per reply, as a pipelining server does.</summary>
internal sealed class PongHandler : ConnectionHandler
{
    private static readonly byte[] Pong = "+PONG\r\n"u8.ToArray();

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            if (b == (byte)'\n')
            {
                connection.Send(Pong);
            }
        }
    }
}
