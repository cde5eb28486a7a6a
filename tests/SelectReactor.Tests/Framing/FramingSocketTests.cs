using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Framing;

/// <summary>The framed handlers on real loopback connections: replies, limits, buffers held, allocation.</summary>
public sealed class FramingSocketTests
{
    [Fact]
    public void LengthPrefixedFrames_SplitAcrossSends_AreAllAnsweredAndTheIdleConnectionHoldsNoBuffer()
    {
        var handlers = new ConcurrentQueue<EchoFrames>();
        using var harness = new ServerHarness(() =>
        {
            var h = new EchoFrames(FrameDecoder.LengthField(2, 1024)) { LengthPrefixed = true };
            handlers.Enqueue(h);
            return h;
        });
        using Socket client = harness.Connect();
        Wait.Until(() => !handlers.IsEmpty, "the server accepted the connection");
        byte[] wire = Frame("alpha"u8).Concat(Frame("beta"u8)).Concat(Frame(new byte[700])).ToArray();

        // Split mid-header, mid-body and between frames, with the server reading in between.
        foreach (Range piece in new[] { 0..1, 1..4, 4..9, 9..300, 300..wire.Length })
        {
            client.Send(wire[piece]);
            int end = piece.End.GetOffset(wire.Length);
            Wait.Until(() => harness.Running.Invoke(() => handlers.Single().Connection?.BytesReceived ?? 0) >= end, $"the server read {end} bytes");
        }

        byte[] replies = SocketIo.ReceiveExactly(client, wire.Length);

        replies.Should().Equal(wire, "each frame is echoed with its header, in order");
        EchoFrames handler = handlers.Single();
        harness.Running.Invoke(() => handler.Capacity).Should().Be(0, "an idle connection holds no buffer");
        harness.Running.Invoke(() => handler.Frames).Should().Be(3);
    }

    [Fact]
    public void LineLongerThanTheMaximum_ClosesWithFrameTooLarge_AfterALastReply_AndLogsOnce()
    {
        using var logs = new CapturingLoggerProvider();
        var handler = new EchoFrames(FrameDecoder.Lines(1000)) { TooLargeReply = "ERR line too long\n"u8.ToArray() };
        using var harness = new ServerHarness(() => handler, reactorOptions: new ReactorOptions { LoggerFactory = logs });
        using Socket client = harness.Connect();

        client.Send("ok\n"u8);
        SocketIo.ReceiveExactly(client, 3).Should().Equal("ok\n"u8.ToArray());
        byte[] noNewline = new byte[64 * 1024];
        noNewline.AsSpan().Fill((byte)'x');
        for (int i = 0; i < 16 && handler.CapacityWhenTooLarge < 0; i++)
        {
            client.Send(noNewline, SocketFlags.None, out _);
        }

        // The server sends its last reply, then end of stream, and closes once we end ours.
        Encoding.ASCII.GetString(ReceiveUntilClosed(client)).Should().Be("ERR line too long\n");
        client.Shutdown(SocketShutdown.Send);
        var (reason, _) = Wait.Result(handler.Closed.Task);
        reason.Should().Be(ConnectionCloseReason.FrameTooLarge);
        handler.CapacityWhenTooLarge.Should().BeLessThanOrEqualTo(1024, "the buffer never grows past the maximum (1,001 bytes, rounded to a power of two)");
        logs.Count(260).Should().Be(1);
    }

    [Fact]
    public void HugeDeclaredLength_ClosesAtOnce_BeforeBufferingAnything()
    {
        var handler = new EchoFrames(FrameDecoder.LengthField(4, 1024));
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send([0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3]);
        ReceiveUntilClosed(client).Should().BeEmpty();
        client.Shutdown(SocketShutdown.Send);

        Wait.Result(handler.Closed.Task).Reason.Should().Be(ConnectionCloseReason.FrameTooLarge);
        handler.CapacityWhenTooLarge.Should().Be(0, "a declared length is checked before a single byte of the frame is kept");
        handler.Frames.Should().Be(0);
    }

    [Fact]
    public void InvalidFrame_ClosesWithProtocolError()
    {
        var handler = new EchoFrames(FrameDecoder.LengthField(1, 64, lengthAdjustment: -4));
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send([2, 0, 0]);
        ReceiveUntilClosed(client).Should().BeEmpty();
        client.Shutdown(SocketShutdown.Send);

        Wait.Result(handler.Closed.Task).Reason.Should().Be(ConnectionCloseReason.ProtocolError);
    }

    private static byte[] ReceiveUntilClosed(Socket socket)
    {
        using var all = new System.IO.MemoryStream();
        byte[] buffer = new byte[4096];
        while (true)
        {
            int n = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
            if (n <= 0 || error != SocketError.Success)
            {
                return all.ToArray();
            }

            all.Write(buffer, 0, n);
        }
    }

    internal static byte[] Frame(ReadOnlySpan<byte> body)
    {
        byte[] frame = new byte[2 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)body.Length);
        body.CopyTo(frame.AsSpan(2));
        return frame;
    }

    /// <summary>Echoes each frame, header and all, as the decoder framed it (re-adding the length or the newline).</summary>
    internal sealed class EchoFrames(FrameDecoder decoder) : FramedConnectionHandler(decoder)
    {
        private readonly byte[] _reply = new byte[70_000];

        public byte[]? TooLargeReply { get; init; }

        public bool LengthPrefixed { get; init; }

        public TcpConnection? Connection { get; private set; }

        public int Frames { get; private set; }

        public int Capacity => BufferCapacity;

        public int CapacityWhenTooLarge { get; private set; } = -1;

        public TaskCompletionSource<(ConnectionCloseReason Reason, Exception? Error)> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
        {
            Frames++;
            int n;
            if (LengthPrefixed)
            {
                BinaryPrimitives.WriteUInt16BigEndian(_reply, (ushort)frame.Length);
                frame.CopyTo(_reply.AsSpan(2));
                n = frame.Length + 2;
            }
            else
            {
                frame.CopyTo(_reply);
                _reply[frame.Length] = (byte)'\n';
                n = frame.Length + 1;
            }

            connection.Send(_reply.AsSpan(0, n));
            return default;
        }

        public override void OnConnected(TcpConnection connection) => Connection = connection;

        protected override void OnFrameTooLarge(TcpConnection connection)
        {
            CapacityWhenTooLarge = BufferCapacity;
            if (TooLargeReply is not null)
            {
                connection.Send(TooLargeReply);
            }
        }

        protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
            => Closed.TrySetResult((reason, error));
    }
}
