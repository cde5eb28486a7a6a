using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>Idle and close timeouts, on a reactor driven tick by tick under a fake clock.</summary>
public sealed class TimeoutTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLoggerProvider _log = new();
    private readonly Reactor _reactor;
    private readonly DelegateHandler _handler = new();
    private readonly TcpServer _server;

    public TimeoutTests()
    {
        _reactor = new Reactor(new ReactorOptions { TimeProvider = _time, LoggerFactory = _log });
        var options = new TcpServerOptions
        {
            Connection =
            {
                IdleTimeout = TimeSpan.FromSeconds(10),
                CloseTimeout = TimeSpan.FromSeconds(2),
                CloseFlushTimeout = TimeSpan.FromSeconds(3),
                MaxPendingSendBytes = 64 * 1024 * 1024,
                SendHighWatermark = 32 * 1024 * 1024,
            },
        };
        _server = new TcpServer(_reactor, new IPEndPoint(IPAddress.Loopback, 0), () => _handler, options);
        _server.Start();
    }

    public void Dispose()
    {
        _server.Dispose();
        _reactor.Dispose();
    }

    [Fact]
    public void IdleTimeout_SilentConnection_IsClosedWithIdleTimeout()
    {
        using Socket client = Connect();
        Tick();

        _time.Advance(TimeSpan.FromSeconds(9));
        Tick();
        _handler.Reasons.Should().BeEmpty();
        _time.Advance(TimeSpan.FromSeconds(1));
        Tick();
        client.Shutdown(SocketShutdown.Send); // the client answers the server's FIN
        DispatchTests.RunUntil(_reactor, () => _handler.Reasons.Count == 1);

        _handler.Reasons.Should().Equal(ConnectionCloseReason.IdleTimeout);
        client.Receive(new byte[1]).Should().Be(0, "the server ended the stream gracefully");
    }

    [Fact]
    public void IdleTimeout_ActivityPushesItBackWithoutATimerPerByte()
    {
        using Socket client = Connect();
        Tick();
        int heapAfterConnect = _reactor.TimerHeapCount;

        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(6));
            client.Send(new byte[] { 1 });
            DispatchTests.RunUntil(_reactor, () => client.Available > 0);
            client.Receive(new byte[1]);
        }

        _handler.Reasons.Should().BeEmpty("there was activity every 6 s against a 10 s timeout");
        _reactor.TimerHeapCount.Should().BeLessThanOrEqualTo(heapAfterConnect, "activity only stamps a time; no timer is created per read");
        _time.Advance(TimeSpan.FromSeconds(10));
        Tick();
        Tick();
        _handler.Reasons.Should().BeEmpty("the close waits for the client's end of stream");
        client.Shutdown(SocketShutdown.Send);
        DispatchTests.RunUntil(_reactor, () => _handler.Reasons.Count == 1);
        _handler.Reasons.Should().Equal(ConnectionCloseReason.IdleTimeout);
    }

    [Fact]
    public void CloseFlushTimeout_PeerNeverReads_QueuedBytesAreDroppedWithAWarningAndTheConnectionReset()
    {
        _handler.Connected = c =>
        {
            c.Send(new byte[16 * 1024 * 1024]).Should().BeTrue();
            c.PendingSendBytes.Should().BeGreaterThan(0);
            c.Close();
        };
        using Socket client = Connect(); // never reads
        Tick();

        _time.Advance(TimeSpan.FromSeconds(2));
        Tick();
        _handler.Reasons.Should().BeEmpty("CloseTimeout (2 s) is for the peer's FIN; a flush is given CloseFlushTimeout (3 s)");
        _time.Advance(TimeSpan.FromSeconds(1));
        DispatchTests.RunUntil(_reactor, () => _handler.Reasons.Count == 1);

        _handler.Reasons.Should().Equal(ConnectionCloseReason.CloseTimeout);
        _log.Entries.Should().ContainSingle(e => e.EventId == 231)
            .Which.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Warning, "dropping unsent data is never quieter than Warning");
    }

    [Fact]
    public void CloseFlushTimeout_RunsFromTheLastProgress_SoAReaderThatKeepsReadingIsNotCutOff()
    {
        TcpConnection? server = null;
        _handler.Connected = c =>
        {
            server = c;
            c.Send(new byte[48 * 1024 * 1024]).Should().BeTrue(); // far more than the kernels buffer
            c.Close();
        };
        using Socket client = Connect();
        Tick();
        byte[] buffer = new byte[1024 * 1024];

        for (int i = 0; i < 3; i++)
        {
            // Every 2 s (under the 3 s limit) the client reads what has arrived, and the server gets more bytes out.
            _time.Advance(TimeSpan.FromSeconds(2));
            long before = server!.BytesSent;
            while (client.Available > 0)
            {
                client.Receive(buffer);
            }

            DispatchTests.RunUntil(_reactor, () => server.BytesSent > before || _handler.Reasons.Count > 0);
        }

        _handler.Reasons.Should().BeEmpty("6 s in all, but never 3 s without progress");
        server!.PendingSendBytes.Should().BeGreaterThan(0, "the test is about a close still flushing");
        _time.Advance(TimeSpan.FromSeconds(3));
        DispatchTests.RunUntil(_reactor, () => _handler.Reasons.Count == 1);
        _handler.Reasons.Should().Equal(ConnectionCloseReason.CloseTimeout);
    }

    [Fact]
    public void CloseTimeout_EverythingSentButThePeerNeverEndsItsStream_StillAGracefulClose()
    {
        _handler.Connected = c =>
        {
            c.Send("bye"u8);
            c.Close();
        };
        using Socket client = Connect();
        Tick();
        Tick();

        _time.Advance(TimeSpan.FromSeconds(2));
        DispatchTests.RunUntil(_reactor, () => _handler.Reasons.Count == 1);

        _handler.Reasons.Should().Equal(ConnectionCloseReason.LocalClose);
        SocketIo.ReceiveToEnd(client).Should().Equal("bye"u8.ToArray());
    }

    private Socket Connect()
    {
        Socket client = Loopback.Connect(_server.LocalEndPoint!, resetOnDispose: true);
        DispatchTests.RunUntil(_reactor, () => _server.ConnectionCount == 1);
        return client;
    }

    private void Tick() => _reactor.RunOnce(TimeSpan.FromMilliseconds(20));
}
