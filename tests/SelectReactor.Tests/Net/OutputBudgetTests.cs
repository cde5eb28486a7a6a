using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// Issue 9: a server-wide budget for pending output. Unix domain sockets, whose kernel buffers are small and fixed
/// (no autotuning), so what stays queued in the server is predictable.
/// </summary>
public sealed class OutputBudgetTests
{
    private const int Unit = 256 * 1024;

    [Fact]
    public void Budget_NonReadersPastIt_TheOneHoldingTheMostIsAbortedNotTheOneThatCrossedIt()
    {
        var log = new CapturingLoggerProvider();
        var opened = new ConcurrentQueue<TcpConnection>();
        var closes = new ConcurrentDictionary<TcpConnection, ConnectionCloseReason>();
        var handler = new DelegateHandler
        {
            Connected = opened.Enqueue,
            Data = (c, data) =>
            {
                // A request byte n asks for n × 256 KiB of reply, sent regardless of backpressure.
                byte[] chunk = new byte[Unit];
                for (int i = 0; i < data[0] && c.Send(chunk); i++)
                {
                }
            },
            Closed = (c, reason, _) => closes[c] = reason,
        };
        var options = new TcpServerOptions
        {
            MaxPendingSendBytesTotal = 2 * 1024 * 1024,
            Connection = { SendHighWatermark = 8 * 1024 * 1024, MaxPendingSendBytes = 16 * 1024 * 1024 },
        };
        string path = Path.Combine(Path.GetTempPath(), $"sr-budget-{Guid.NewGuid():N}.sock");
        using var harness = new ServerHarness(() => handler, options, new UnixDomainSocketEndPoint(path), new ReactorOptions { LoggerFactory = log });
        using Socket big = harness.Connect();
        using Socket small = harness.Connect();
        using Socket crossing = harness.Connect();
        Wait.Until(() => opened.Count == 3, "three connections are open");
        TcpConnection[] server = opened.ToArray();

        // None of them ever reads. About 200 KiB of each reply fits in the kernel; the rest stays queued.
        big.Send(new byte[] { 6 });
        Wait.Until(() => harness.Server.PendingSendBytes > 1024 * 1024, "the big reply is queued");
        small.Send(new byte[] { 2 });
        Wait.Until(() => harness.Server.PendingSendBytes > 1300 * 1024, "the small reply is queued too, within the budget");
        long before = harness.Server.PendingSendBytes;
        crossing.Send(new byte[] { 4 });
        Wait.Until(() => closes.Count == 1, "a connection was aborted for the budget");

        before.Should().BeLessThan(options.MaxPendingSendBytesTotal);
        closes.Should().ContainKey(server[0], "the connection holding the most pays").WhoseValue.Should().Be(ConnectionCloseReason.SendBufferOverflow);
        harness.Running.Invoke(() => (server[1].IsOpen, server[2].IsOpen)).Should().Be((true, true), "the one that crossed the line, and the small one, go on");
        harness.Server.PendingSendBytes.Should().BeLessThanOrEqualTo(options.MaxPendingSendBytesTotal);
        log.Entries.Should().ContainSingle(e => e.EventId == 234).Which.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Warning);
        using Socket reader = harness.Connect();
        reader.Send(new byte[] { 1 });
        SocketIo.ReceiveExactly(reader, Unit).Length.Should().Be(Unit, "a client that reads is still served");
    }

    [Fact]
    public void Budget_PeersThatKeepUp_AreNeverCharged()
    {
        var handler = new TestEchoHandler();
        var options = new TcpServerOptions { MaxPendingSendBytesTotal = 1 };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();

        for (int i = 0; i < 100; i++)
        {
            client.Send(new byte[1000]);
            SocketIo.ReceiveExactly(client, 1000);
        }

        harness.Server.PendingSendBytes.Should().Be(0);
        handler.Closes.Should().BeEmpty("output that leaves within the callback that wrote it is never counted");
    }

    [Fact]
    public void Budget_MustBePositive()
    {
        var options = new TcpServerOptions();

        options.Invoking(o => o.MaxPendingSendBytesTotal = 0).Should().Throw<ArgumentOutOfRangeException>();
        options.MaxPendingSendBytesTotal.Should().Be(256L * 1024 * 1024);
    }
}
