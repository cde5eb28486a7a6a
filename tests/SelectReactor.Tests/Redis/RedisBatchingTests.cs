using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using RedisServer;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Redis;

/// <summary>
/// The Redis sample writes replies in place into the connection's output and leaves the sending to the library:
/// counted through the server side's send system calls, a pipeline is answered with one, and so is the work an
/// asynchronous command finishes later.
/// </summary>
public sealed class RedisBatchingTests : IDisposable
{
    private readonly RunningReactor _running = new();
    private readonly ConcurrentQueue<RespConnection> _clients = new();
    private readonly TcpServer _server;

    public RedisBatchingTests()
    {
        var state = new ServerState(_running.Reactor, TimeProvider.System);
        _server = new TcpServer(_running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () =>
        {
            var client = new RespConnection(state);
            _clients.Enqueue(client);
            return client;
        });
        _server.Start();
    }

    private int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

    [Fact]
    public void SixteenPipelinedRequests_AreAnsweredWithOneSend()
    {
        using var client = new RespSocket(Port);
        client.Call("SET", "k", "v").Should().Be("+OK\r\n");
        TcpConnection connection = ServerSide();
        long before = _running.Invoke(() => connection.SendCalls);

        client.Send(Enumerable.Range(0, 16).SelectMany(i => i % 2 == 0 ? RespSocket.Command("SET", "k", "v") : RespSocket.Command("GET", "k")).ToArray());
        string[] replies = Enumerable.Range(0, 16).Select(_ => client.ReadReply()).ToArray();

        replies.Should().Equal(Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? "+OK\r\n" : "$1\r\nv\r\n"));
        _running.Invoke(() => connection.SendCalls - before).Should().Be(1);
    }

    [Fact]
    public void DebugSleep_TheRepliesWrittenWhenItEnds_LeaveInOneSend()
    {
        using var client = new RespSocket(Port);
        client.Call("PING").Should().Be("+PONG\r\n");
        TcpConnection connection = ServerSide();
        long before = _running.Invoke(() => connection.SendCalls);

        // PING is answered as the read's callback returns; the sleep's reply and the PINGs queued behind it are
        // written later, in a posted continuation, and leave as that returns: nothing in the sample sends them.
        client.Send([.. RespSocket.Command("PING"), .. RespSocket.Command("DEBUG", "SLEEP", "0.05"), .. Enumerable.Range(0, 8).SelectMany(_ => RespSocket.Command("PING"))]);
        string[] replies = Enumerable.Range(0, 10).Select(_ => client.ReadReply()).ToArray();

        replies.Should().Equal(["+PONG\r\n", "+OK\r\n", .. Enumerable.Repeat("+PONG\r\n", 8)]);
        _running.Invoke(() => connection.SendCalls - before).Should().Be(2);
    }

    public void Dispose()
    {
        _server.Stop();
        _running.Dispose();
    }

    private TcpConnection ServerSide()
    {
        _clients.Should().ContainSingle();
        return _clients.Single().Connection!;
    }
}
