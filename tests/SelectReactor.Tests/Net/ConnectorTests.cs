using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

public sealed class ConnectorTests
{
    [Fact]
    public void Connect_ToAListeningServer_ConnectsAndFlushesBytesQueuedBeforehand()
    {
        using var harness = new ServerHarness(() => new TestEchoHandler());
        using var running = new RunningReactor();
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = new TaskCompletionSource<EndPoint?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c => connected.TrySetResult(c.RemoteEndPoint),
            Data = (c, data) => reply.TrySetResult(System.Text.Encoding.ASCII.GetString(data)),
        };

        running.Invoke(() =>
        {
            TcpConnection connection = TcpConnector.Connect(running.Reactor, harness.EndPoint, handler);
            return connection.Send("queued before connect"u8);
        }).Should().BeTrue();

        Wait.Result(connected.Task).Should().Be(harness.EndPoint);
        Wait.Result(reply.Task).Should().Be("queued before connect");
    }

    [Fact]
    public void Connect_Refused_ReportsConnectFailedWithTheSocketError()
    {
        using var running = new RunningReactor();
        var closed = new TaskCompletionSource<(ConnectionCloseReason, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Closed = (_, reason, error) => closed.TrySetResult((reason, error)) };

        TcpConnector.Connect(running.Reactor, Loopback.UnusedEndPoint(), handler);

        (ConnectionCloseReason reason, Exception? error) = Wait.Result(closed.Task);
        reason.Should().Be(ConnectionCloseReason.ConnectFailed);
        error.Should().BeOfType<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        handler.Reasons.Should().HaveCount(1);
    }

    [Fact]
    public void Connect_NoAnswerWithinTheTimeout_ReportsConnectTimeout()
    {
        // A listener whose accept queue is full drops new SYNs, so a connect to it hangs: a timeout on loopback.
        using Socket listener = Loopback.Listen(backlog: 1);
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    filler.Connect(listener.LocalEndPoint!);
                }
                catch (SocketException)
                {
                    // Expected: in progress.
                }

                fillers.Add(filler);
            }

            using var running = new RunningReactor();
            var closed = new TaskCompletionSource<(ConnectionCloseReason, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var handler = new DelegateHandler { Closed = (_, reason, error) => closed.TrySetResult((reason, error)) };

            TcpConnector.Connect(running.Reactor, listener.LocalEndPoint!, handler, new TcpConnectorOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) });

            (ConnectionCloseReason reason, Exception? error) = Wait.Result(closed.Task);
            reason.Should().Be(ConnectionCloseReason.ConnectTimeout);
            error.Should().BeOfType<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.TimedOut);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void Connect_ByHostName_ResolvesOffTheReactorThreadAndConnects()
    {
        using var harness = new ServerHarness(() => new TestEchoHandler());
        using var running = new RunningReactor();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Connected = _ => connected.TrySetResult() };
        int port = ((IPEndPoint)harness.EndPoint).Port;

        TcpConnector.Connect(running.Reactor, new DnsEndPoint("localhost", port, AddressFamily.InterNetwork), handler);

        Wait.For(connected.Task);
    }

    [Fact]
    public void Connect_UnixDomainSocket_Connects()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sr-{Guid.NewGuid():N}.sock");
        using var harness = new ServerHarness(() => new TestEchoHandler(), endPoint: new UnixDomainSocketEndPoint(path));
        using var running = new RunningReactor();
        var reply = new TaskCompletionSource<byte>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler { Connected = c => c.Send(new byte[] { 77 }), Data = (_, data) => reply.TrySetResult(data[0]) };

        TcpConnector.Connect(running.Reactor, new UnixDomainSocketEndPoint(path), handler);

        Wait.Result(reply.Task).Should().Be(77);
    }

    [Fact]
    public void Connect_ArgumentsAreValidated()
    {
        using var reactor = new Reactor();

        FluentActions.Invoking(() => TcpConnector.Connect(null!, new IPEndPoint(IPAddress.Loopback, 1), new TestEchoHandler())).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => TcpConnector.Connect(reactor, null!, new TestEchoHandler())).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => TcpConnector.Connect(reactor, new IPEndPoint(IPAddress.Loopback, 1), null!)).Should().Throw<ArgumentNullException>();
    }
}
