using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

[Collection(SerialCollection.Name)]
public sealed class BackpressureTests
{
    private const long Total = 256L * 1024 * 1024;

    [Fact]
    public void SlowReader_Pushing256MiB_PendingOutputStaysUnderTheCapAndMemoryIsBounded()
    {
        var options = new TcpServerOptions();
        long maxPending = 0;
        int fullCount = 0;
        int drainedCount = 0;
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                c.Send(data);
                maxPending = Math.Max(maxPending, c.PendingSendBytes);
            },
            Full = _ => fullCount++,
            Drained = _ => drainedCount++,
        };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();
        client.ReceiveBufferSize = 64 * 1024;
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long peakHeap = 0;

        var writer = Task.Run(() =>
        {
            byte[] chunk = new byte[64 * 1024];
            for (long sent = 0; sent < Total; sent += chunk.Length)
            {
                Pattern(chunk, sent);
                client.Send(chunk);
            }

            client.Shutdown(SocketShutdown.Send);
        });

        // The reader starts late and reads in small pieces, so the server must throttle the writer.
        Thread.Sleep(300); // not synchronisation: a deliberate stall while the writer runs into backpressure
        peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
        byte[] buffer = new byte[16 * 1024];
        byte[] expected = new byte[buffer.Length];
        long received = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int n = client.Receive(buffer);
            if (n == 0)
            {
                break;
            }

            Pattern(expected.AsSpan(0, n), received);
            buffer.AsSpan(0, n).SequenceEqual(expected.AsSpan(0, n)).Should().BeTrue($"bytes at offset {received} come back intact");
            received += n;
            if ((received & ((1 << 24) - 1)) < n)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            }

            clock.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(2));
        }

        Wait.For(writer);
        received.Should().Be(Total);
        fullCount.Should().BeGreaterThan(0, "the high watermark was crossed and the handler was told");
        drainedCount.Should().BeGreaterThan(0);
        long bound = options.Connection.SendHighWatermark + (options.Connection.ReceiveBufferSize * options.Connection.MaxReadsPerReadiness);
        maxPending.Should().BeLessThanOrEqualTo(bound, "reading stops above the high watermark, so one read batch is the most it can overshoot");
        maxPending.Should().BeLessThan(options.Connection.MaxPendingSendBytes);
        (peakHeap - heapBefore).Should().BeLessThan(64L * 1024 * 1024, "256 MiB went through without being buffered");
    }

    [Fact]
    public void HardCap_ProducerThatIgnoresBackpressure_IsAbortedInsteadOfGrowingMemory()
    {
        var closed = new TaskCompletionSource<(ConnectionCloseReason, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool lastSendResult = true;
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                // A producer that never looks at backpressure: 64 KiB at a time until Send refuses.
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 1_000 && lastSendResult; i++)
                {
                    lastSendResult = c.Send(chunk);
                }
            },
            Closed = (_, reason, error) => closed.TrySetResult((reason, error)),
        };
        var options = new TcpServerOptions { Connection = { MaxPendingSendBytes = 1024 * 1024, SendHighWatermark = 512 * 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect(); // never reads

        (ConnectionCloseReason reason, Exception? error) = Wait.Result(closed.Task);

        reason.Should().Be(ConnectionCloseReason.SendBufferOverflow);
        error!.Message.Should().Contain("1048576");
        lastSendResult.Should().BeFalse();
    }

    [Fact]
    public void Backpressure_ReadingResumesBelowTheLowWatermark()
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var handler = new DelegateHandler
        {
            Data = (c, data) => c.Send(data),
            Full = c => events.Enqueue($"full:{c.IsSendBufferFull}"),
            Drained = c => events.Enqueue($"drained:{c.IsSendBufferFull}:{c.PendingSendBytes <= 16 * 1024}"),
        };
        var options = new TcpServerOptions { Connection = { SendHighWatermark = 64 * 1024, SendLowWatermark = 16 * 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();
        client.ReceiveBufferSize = 16 * 1024;

        var writer = Task.Run(() =>
        {
            client.Send(new byte[8 * 1024 * 1024]);
            client.Shutdown(SocketShutdown.Send);
        });
        Wait.Until(() => !events.IsEmpty, "the connection reported a full send buffer");
        long echoed = SocketIo.ReceiveToEnd(client).LongLength;

        Wait.For(writer);
        echoed.Should().Be(8 * 1024 * 1024);
        events.Should().Contain("full:True").And.Contain("drained:False:True");
    }

    private static void Pattern(Span<byte> span, long offset)
    {
        for (int i = 0; i < span.Length; i++)
        {
            long position = offset + i;
            span[i] = (byte)((position * 31) ^ (position >> 11));
        }
    }
}
