using System;
using System.Buffers;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// Output written during one reactor callback leaves in one send system call: counted through the connection's
/// SendCalls (the transport's count of send and sendmsg calls) and checked against what the peer receives.
/// </summary>
public sealed class BatchedOutputTests
{
    private static readonly byte[] Pong = "+PONG\r\n"u8.ToArray();

    [Fact]
    public void PipelinedRequests_SixteenRepliesSentOneByOne_LeaveInOneSendCall()
    {
        var connected = new TaskCompletionSource<TcpConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c => connected.TrySetResult(c),
            Data = (c, data) =>
            {
                // One reply per request line, each its own Send, the way a Redis-like server answers a pipeline.
                foreach (byte b in data)
                {
                    if (b == (byte)'\n')
                    {
                        c.Send(Pong).Should().BeTrue();
                    }
                }
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        TcpConnection server = Wait.Result(connected.Task);
        long callsBefore = harness.Running.Invoke(() => server.SendCalls);

        client.Send(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("PING\r\n", 16))));
        byte[] replies = SocketIo.ReceiveExactly(client, 16 * Pong.Length);

        replies.Should().Equal(Enumerable.Repeat(Pong, 16).SelectMany(p => p));
        harness.Running.Invoke(() => server.SendCalls - callsBefore).Should().Be(1, "sixteen replies written in one callback leave in one send");
    }

    [Fact]
    public void SendsToAnotherConnection_FromACallbackATimerAndAPostedAction_EachLeaveInOneSendCall()
    {
        var connections = new System.Collections.Concurrent.ConcurrentQueue<TcpConnection>();
        TcpConnection? target = null;
        var handler = new DelegateHandler
        {
            Connected = connections.Enqueue,
            Data = (_, data) =>
            {
                // The first connection's request makes ten writes to the second one.
                for (int i = 0; i < 10; i++)
                {
                    target!.Send(data).Should().BeTrue();
                }
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket source = harness.Connect();
        using Socket sink = harness.Connect();
        Wait.Until(() => connections.Count == 2, "both connections are open");
        target = connections.ToArray()[1];
        long calls = harness.Running.Invoke(() => target.SendCalls);

        source.Send("ab"u8.ToArray());
        SocketIo.ReceiveExactly(sink, 20).Should().Equal(Enumerable.Repeat("ab"u8.ToArray(), 10).SelectMany(b => b));
        long fromCallback = harness.Running.Invoke(() => target.SendCalls) - calls;

        var timerDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Reactor.Schedule(TimeSpan.FromMilliseconds(1), () =>
        {
            for (int i = 0; i < 10; i++)
            {
                target.Send("t"u8);
            }

            timerDone.SetResult();
        });
        Wait.For(timerDone.Task);
        SocketIo.ReceiveExactly(sink, 10).Should().Equal(Enumerable.Repeat((byte)'t', 10));
        long fromTimer = harness.Running.Invoke(() => target.SendCalls) - calls - fromCallback;

        harness.Reactor.Post(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                target.Send("p"u8);
            }
        });
        SocketIo.ReceiveExactly(sink, 10).Should().Equal(Enumerable.Repeat((byte)'p', 10));
        long fromPost = harness.Running.Invoke(() => target.SendCalls) - calls - fromCallback - fromTimer;

        fromCallback.Should().Be(1, "ten sends from another connection's callback leave together");
        fromTimer.Should().Be(1, "ten sends from a timer callback leave together");
        fromPost.Should().Be(1, "ten sends from a posted action leave together");
    }

    [Fact]
    public void Output_WritesInPlaceInterleavedWithSend_ArriveInOrderInOneSendCall()
    {
        var connected = new TaskCompletionSource<TcpConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Connected = c => connected.TrySetResult(c),
            Data = (c, _) =>
            {
                IBufferWriter<byte> output = c.Output;
                for (int i = 0; i < 100; i++)
                {
                    Span<byte> span = output.GetSpan(3);
                    span.Length.Should().BeGreaterThanOrEqualTo(3);
                    span[0] = (byte)'w';
                    span[1] = (byte)('0' + (i % 10));
                    output.Advance(2);
                    c.Send("s;"u8);
                }

                // A request bigger than a pooled segment still comes back whole.
                Span<byte> big = output.GetSpan(40_000);
                big[..40_000].Fill((byte)'B');
                output.Advance(40_000);
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        TcpConnection server = Wait.Result(connected.Task);
        long callsBefore = harness.Running.Invoke(() => server.SendCalls);

        client.Send("go"u8.ToArray());
        string expected = string.Concat(Enumerable.Range(0, 100).Select(i => $"w{i % 10}s;")) + new string('B', 40_000);
        byte[] received = SocketIo.ReceiveExactly(client, expected.Length);

        Encoding.ASCII.GetString(received).Should().Be(expected);
        harness.Running.Invoke(() => server.SendCalls - callsBefore).Should().Be(1, "three pooled segments leave in one gathered send");
        harness.Running.Invoke(() => server.PendingSendBytes).Should().Be(0);
    }

    [Fact]
    public void Send_BytesArePendingDuringTheCallbackAndSentWhenItReturns()
    {
        var during = new TaskCompletionSource<(long Pending, long Sent, bool Accepted)>(TaskCreationOptions.RunContinuationsAsynchronously);
        TcpConnection? server = null;
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                server = c;
                bool accepted = c.Send(new byte[100]);
                during.TrySetResult((c.PendingSendBytes, c.BytesSent, accepted));
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        SocketIo.ReceiveExactly(client, 100);
        (long pending, long sent, bool accepted) = Wait.Result(during.Task);

        accepted.Should().BeTrue();
        pending.Should().Be(100, "gathered until the callback returns");
        sent.Should().Be(0);
        harness.Running.Invoke(() => (server!.PendingSendBytes, server.BytesSent)).Should().Be((0L, 100L));
    }

    [Fact]
    public void Send_LargeWrite_GoesToTheSocketAtOnceAfterWhatWasGathered()
    {
        var during = new TaskCompletionSource<(long Calls, long Sent)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                long before = c.SendCalls;
                c.Send("head"u8);
                c.Send(Enumerable.Repeat((byte)'L', TcpConnection.WriteThroughSize).ToArray());
                during.TrySetResult((c.SendCalls - before, c.BytesSent));
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        byte[] received = SocketIo.ReceiveExactly(client, 4 + TcpConnection.WriteThroughSize);
        (long calls, long sent) = Wait.Result(during.Task);

        Encoding.ASCII.GetString(received, 0, 4).Should().Be("head");
        received.Skip(4).Should().OnlyContain(b => b == (byte)'L');
        calls.Should().Be(2, "the gathered head first, then the large write from the caller's memory, both within the Send");
        sent.Should().Be(4 + TcpConnection.WriteThroughSize);
    }

    [Fact]
    public void GatheredOutput_PastTheHighWatermark_IsSentEarlyInsteadOfReportingAFullBuffer()
    {
        var during = new TaskCompletionSource<(long Sent, bool Full)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                // 20 KiB in 1 KiB writes against an 8 KiB high watermark, on a fresh socket whose buffer takes it.
                for (int i = 0; i < 20; i++)
                {
                    c.Send(new byte[1024]);
                }

                during.TrySetResult((c.BytesSent, c.IsSendBufferFull));
            },
        };
        var options = new TcpServerOptions { Connection = { SendHighWatermark = 8 * 1024, SendLowWatermark = 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        SocketIo.ReceiveExactly(client, 20 * 1024);
        (long sent, bool full) = Wait.Result(during.Task);

        sent.Should().BeGreaterThan(0, "output past the watermark goes to the socket before the callback ends");
        full.Should().BeFalse("the socket took it, so the buffer never counted as full");
    }

    [Fact]
    public void GatheredOutput_ToAPeerThatDoesNotRead_StillHitsTheCap()
    {
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        int accepted = 0;
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                // Small writes only (gathered, never written through), far more than the cap plus the kernel's buffers.
                byte[] chunk = new byte[1024];
                for (int i = 0; i < 64 * 1024 && c.Send(chunk); i++)
                {
                    accepted++;
                }
            },
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        var options = new TcpServerOptions { Connection = { MaxPendingSendBytes = 1024 * 1024, SendHighWatermark = 256 * 1024 } };
        using var harness = new ServerHarness(() => handler, options);
        using Socket client = harness.Connect(); // never reads

        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.SendBufferOverflow);
        accepted.Should().BeLessThan(64 * 1024, "Send refused once the cap was reached");
    }

    [Fact]
    public void Output_AfterTheConnectionStoppedAcceptingData_IsDiscardedLikeSend()
    {
        var result = new TaskCompletionSource<(int SpanLength, bool SendAccepted, long Pending)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                c.Shutdown();
                Span<byte> span = c.Output.GetSpan(10);
                c.Output.Advance(10);
                result.TrySetResult((span.Length, c.Send("x"u8), c.PendingSendBytes));
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        SocketIo.ReceiveToEnd(client).Should().BeEmpty("nothing written after Shutdown is sent");
        (int spanLength, bool sendAccepted, long pending) = Wait.Result(result.Task);

        spanLength.Should().BeGreaterThanOrEqualTo(10, "GetSpan still returns usable (scratch) memory");
        sendAccepted.Should().BeFalse();
        pending.Should().Be(0);
    }

    [Fact]
    public void TwoConnectionsWrittenInOneCallback_InterleavedSendsAndOutput_EachGetsItsBytesInOrder()
    {
        var connections = new System.Collections.Concurrent.ConcurrentQueue<TcpConnection>();
        var handler = new DelegateHandler { Connected = connections.Enqueue };
        using var harness = new ServerHarness(() => handler);
        using Socket first = harness.Connect();
        using Socket second = harness.Connect();
        Wait.Until(() => connections.Count == 2, "both connections are open");
        TcpConnection[] server = connections.ToArray();

        harness.Reactor.Post(() =>
        {
            // The first connection to write takes the reactor's staging area; the other queues; then a writer call
            // and more sends on both, all in one callback.
            for (int i = 0; i < 3; i++)
            {
                server[0].Send(Encoding.ASCII.GetBytes($"a{i};"));
                server[1].Send(Encoding.ASCII.GetBytes($"b{i};"));
            }

            foreach (TcpConnection c in server)
            {
                Span<byte> span = c.Output.GetSpan(3);
                "w;"u8.CopyTo(span);
                c.Output.Advance(2);
                c.Send("z"u8);
            }
        });

        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(first, 12)).Should().Be("a0;a1;a2;w;z");
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(second, 12)).Should().Be("b0;b1;b2;w;z");
        harness.Running.Invoke(() => harness.Reactor.SendScratch.StagingOwner).Should().BeNull("the staging area is never held past the callback");
    }

    [Fact]
    public void SendThenAbortInOneCallback_TheStagingAreaIsFreedForOthers()
    {
        var handler = new DelegateHandler
        {
            Data = (c, data) =>
            {
                if (data[0] == (byte)'!')
                {
                    c.Send("dropped"u8);
                    c.Abort();
                    return;
                }

                c.Send(data);
            },
        };
        using var harness = new ServerHarness(() => handler);
        using Socket aborted = harness.Connect();
        using Socket other = harness.Connect();

        aborted.Send("!"u8.ToArray());
        Wait.Until(() => handler.Reasons.Count == 1, "the connection was aborted");
        object? owner = harness.Running.Invoke(() => harness.Reactor.SendScratch.StagingOwner);
        other.Send("fine"u8.ToArray());

        owner.Should().BeNull();
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(other, 4)).Should().Be("fine");
    }
}
