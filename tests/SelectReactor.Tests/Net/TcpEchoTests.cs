using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

public sealed class TcpEchoTests
{
    [Fact]
    public void Echo_RandomPayloadsFrom1ByteTo4MiB_Over64ConcurrentClients_ComeBackIntact()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler);
        int[] sizes = Enumerable.Range(0, 64).Select(i => i switch
        {
            0 => 1,
            1 => 4 * 1024 * 1024,
            _ => new Random(i).Next(1, 512 * 1024),
        }).ToArray();

        Parallel.For(0, sizes.Length, new ParallelOptions { MaxDegreeOfParallelism = 64 }, i =>
        {
            byte[] payload = new byte[sizes[i]];
            new Random(1000 + i).NextBytes(payload);
            using Socket client = harness.Connect();
            var reader = Task.Run(() => SocketIo.ReceiveToEnd(client));

            client.Send(payload);
            client.Shutdown(SocketShutdown.Send);

            byte[] echoed = Wait.Result(reader);
            echoed.Length.Should().Be(payload.Length, $"client {i}");
            echoed.AsSpan().SequenceEqual(payload).Should().BeTrue($"client {i} got its bytes back in order");
        });

        Wait.Until(() => handler.Closes.Count == sizes.Length, "every connection closed");
        handler.Closes.Should().OnlyContain(c => c.Reason == ConnectionCloseReason.RemoteClose && c.RentedBuffers == 0 && c.WasClosed);
        harness.Server.ConnectionCount.Should().Be(0);
    }

    [Fact]
    public void HalfClose_ClientShutsDownSend_EverythingIsEchoedThenTheServerCloses()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        byte[] payload = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();

        client.Send(payload);
        client.Shutdown(SocketShutdown.Send);
        byte[] echoed = SocketIo.ReceiveToEnd(client);

        echoed.Should().Equal(payload);
        handler.FirstClose.Task.Wait(Wait.Generous).Should().BeTrue();
        handler.FirstClose.Task.Result.Should().Be(ConnectionCloseReason.RemoteClose);
    }

    [Fact]
    public void Shutdown_ByTheServer_SendsFinButKeepsReadingUntilThePeerCloses()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                string text = System.Text.Encoding.ASCII.GetString(data);
                if (text == "bye")
                {
                    c.Send("ok"u8).Should().BeTrue();
                    c.Shutdown();
                    c.Send("late"u8).Should().BeFalse("no data is accepted after Shutdown");
                }
                else
                {
                    received.TrySetResult(text);
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send("bye"u8.ToArray());
        byte[] reply = SocketIo.ReceiveToEnd(client);
        client.Send("after-fin"u8.ToArray());

        System.Text.Encoding.ASCII.GetString(reply).Should().Be("ok");
        Wait.Result(received.Task).Should().Be("after-fin");
        closed.Task.IsCompleted.Should().BeFalse("the server waits for the client's end of stream");
        client.Shutdown(SocketShutdown.Send);
        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.LocalClose);
    }

    [Fact]
    public void Close_ByTheServer_FlushesQueuedBytesThenEndsTheStream()
    {
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                byte[] big = Enumerable.Range(0, 2_000_000).Select(i => (byte)(i * 7)).ToArray();
                c.Send(big).Should().BeTrue();
                c.Close();
            },
        };
        var options = new TcpServerOptions { Connection = { MaxPendingSendBytes = 8 * 1024 * 1024, SendHighWatermark = 4 * 1024 * 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();

        byte[] all = SocketIo.ReceiveToEnd(client);

        all.Should().Equal(Enumerable.Range(0, 2_000_000).Select(i => (byte)(i * 7)));
    }

    [Fact]
    public void OnClosed_EndPointsAreStillKnownAfterTheSocketIsGone()
    {
        var seen = new System.Threading.Tasks.TaskCompletionSource<(System.Net.EndPoint?, System.Net.EndPoint?)>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Closed = (c, _, _) => seen.TrySetResult((c.LocalEndPoint, c.RemoteEndPoint)) };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Shutdown(SocketShutdown.Send);
        SocketIo.ReceiveToEnd(client);

        (System.Net.EndPoint? local, System.Net.EndPoint? remote) = Wait.Result(seen.Task);
        local.Should().Be(harness.EndPoint);
        remote.Should().Be(client.LocalEndPoint, "end points are read before the socket closes, though never earlier unless asked");
    }

    [Fact]
    public void Abort_ResetsTheConnectionAtOnce()
    {
        var handler = new DelegateHandler { Data = (c, _) => c.Abort() };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        var error = Record.Exception(() => SocketIo.ReceiveToEnd(client));

        error.Should().BeOfType<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        Wait.Until(() => handler.Reasons.Count == 1, "the handler heard of the close");
        handler.Reasons.Should().Equal(ConnectionCloseReason.Aborted);
    }

    [Fact]
    public void HandlerFault_ClosesOnlyThatConnection()
    {
        int count = 0;
        var reasons = new System.Collections.Concurrent.ConcurrentQueue<(ConnectionCloseReason, Exception?)>();
        using var harness = new ServerHarness(() => new DelegateHandler
        {
            Data = (c, data) =>
            {
                if (data[0] == 0xFF)
                {
                    throw new InvalidOperationException("protocol bug");
                }

                c.Send(data);
            },
            Closed = (_, reason, error) => reasons.Enqueue((reason, error)),
        });
        using Socket bad = harness.Connect();
        using Socket good = harness.Connect();

        bad.Send(new byte[] { 0xFF });
        Wait.Until(() => reasons.Count == 1, "the faulty connection closed");
        good.Send(new byte[] { 1, 2, 3 });

        SocketIo.ReceiveExactly(good, 3).Should().Equal(1, 2, 3);
        reasons.Single().Item1.Should().Be(ConnectionCloseReason.HandlerFault);
        reasons.Single().Item2.Should().BeOfType<InvalidOperationException>();
        Interlocked.Increment(ref count);
    }

    [Fact]
    public void MaxConnections_BeyondTheLimit_NewSocketsAreClosedAndCounted()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { MaxConnections = 2 });
        using Socket first = harness.Connect();
        using Socket second = harness.Connect();
        Wait.Until(() => harness.Server.ConnectionCount == 2, "two connections are open");

        using Socket third = harness.Connect();
        Wait.Until(() => harness.Server.RejectedCount == 1, "the third was rejected");

        SocketIo.ReceiveToEnd(third).Should().BeEmpty();
        first.Send(new byte[] { 9 });
        SocketIo.ReceiveExactly(first, 1).Should().Equal(9);
        harness.Server.ConnectionCount.Should().Be(2);
    }

    [Fact]
    public void Stop_StopsAcceptingAndClosesConnectionsGracefully()
    {
        var handler = new TestEchoHandler();
        var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        client.Send(new byte[] { 1 });
        SocketIo.ReceiveExactly(client, 1);

        harness.Server.Stop();

        SocketIo.ReceiveToEnd(client).Should().BeEmpty("the server ended the stream");
        client.Shutdown(SocketShutdown.Send);
        Wait.For(harness.Server.Completion);
        handler.Closes.Single().Reason.Should().Be(ConnectionCloseReason.LocalClose);
        var refused = Record.Exception(() => harness.Connect());
        refused.Should().BeOfType<SocketException>();
        harness.Dispose();
    }

    [Fact]
    public void ResetStorm_300ClientsWriteThenReset_ServerSurvivesAndKeepsServing()
    {
        var handler = new TestEchoHandler();
        using var harness = new ServerHarness(() => handler);

        Parallel.For(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            using Socket client = harness.Connect();
            client.Send(new byte[1000 + i]);
            client.LingerState = new LingerOption(true, 0);
            client.Close(); // linger 0: RST
        });

        Wait.Until(() => handler.Closes.Count == 300, "every reset connection closed");
        using Socket after = harness.Connect();
        after.Send(new byte[] { 4, 2 });
        SocketIo.ReceiveExactly(after, 2).Should().Equal(4, 2);
        handler.Closes.Should().OnlyContain(c => c.RentedBuffers == 0);
        handler.Closes.Select(c => c.Reason).Should().OnlyContain(r =>
            r == ConnectionCloseReason.ConnectionReset || r == ConnectionCloseReason.RemoteClose);
        harness.Running.LoopError.Should().BeNull();
    }

    [Fact]
    public void UnixDomainSocket_EchoesAndRemovesTheSocketFileOnStop()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sr-{Guid.NewGuid():N}.sock");
        var handler = new TestEchoHandler();
        var harness = new ServerHarness(() => handler, endPoint: new UnixDomainSocketEndPoint(path));
        System.IO.File.Exists(path).Should().BeTrue();

        using (Socket client = harness.Connect())
        {
            client.Send("over a unix socket"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            System.Text.Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client)).Should().Be("over a unix socket");
        }

        harness.Dispose();
        Wait.Until(() => !System.IO.File.Exists(path), "the socket file was removed");
    }

    [Fact]
    public void UnixDomainSocket_StaleFileIsReplacedButALiveOneIsNot()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sr-{Guid.NewGuid():N}.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(path)); // leaves a stale file behind
        }

        using var live = new ServerHarness(() => new TestEchoHandler(), endPoint: new UnixDomainSocketEndPoint(path));
        var second = new TcpServer(live.Reactor, new UnixDomainSocketEndPoint(path), () => new TestEchoHandler());

        second.Invoking(s => s.Start()).Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        using Socket client = live.Connect();
        client.Send(new byte[] { 3 });
        SocketIo.ReceiveExactly(client, 1).Should().Equal(3);
    }
}

/// <summary>A connection handler made of delegates, for tests.</summary>
internal sealed class DelegateHandler : ConnectionHandler
{
    public System.Collections.Concurrent.ConcurrentQueue<ConnectionCloseReason> ReasonsQueue { get; } = new();

    public System.Collections.Generic.IReadOnlyList<ConnectionCloseReason> Reasons => ReasonsQueue.ToArray();

    public Action<TcpConnection>? Connected { get; set; }

    public SpanAction? Data { get; set; }

    public Action<TcpConnection>? Full { get; set; }

    public Action<TcpConnection>? Drained { get; set; }

    public Action<TcpConnection>? RemoteShutdown { get; set; }

    public Action<TcpConnection, ConnectionCloseReason, Exception?>? Closed { get; set; }

    public delegate void SpanAction(TcpConnection connection, ReadOnlySpan<byte> data);

    public override void OnConnected(TcpConnection connection) => Connected?.Invoke(connection);

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        if (Data is null)
        {
            connection.Send(data);
        }
        else
        {
            Data(connection, data);
        }
    }

    public override void OnSendBufferFull(TcpConnection connection) => Full?.Invoke(connection);

    public override void OnDrained(TcpConnection connection) => Drained?.Invoke(connection);

    public override void OnRemoteShutdown(TcpConnection connection)
    {
        if (RemoteShutdown is null)
        {
            base.OnRemoteShutdown(connection);
        }
        else
        {
            RemoteShutdown(connection);
        }
    }

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        ReasonsQueue.Enqueue(reason);
        Closed?.Invoke(connection, reason, error);
    }
}
