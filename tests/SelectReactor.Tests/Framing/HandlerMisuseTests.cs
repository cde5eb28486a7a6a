using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;

namespace SelectReactor.Tests.Framing;

/// <summary>
/// Mistakes a user can make with the framing handlers and batched output, found by probing the API as a hostile
/// user would: each gets a clear error where it is made, and nothing else is disturbed.
/// </summary>
public sealed class HandlerMisuseTests
{
    [Fact]
    public void SharedParsingHandler_SecondConnection_IsRefusedWithHandlerFault_AndTheFirstKeepsItsBytes()
    {
        // One instance for every connection: before, B's frame came out as "secret-of-A B-line", A's partial line
        // read as B's, and nothing was logged.
        var shared = new EchoLines();
        using var harness = new ServerHarness(() => shared);
        using Socket a = harness.Connect();
        using Socket b = harness.Connect();

        a.Send("secret-of-A "u8);
        Wait.Until(() => harness.Running.Invoke(() => shared.BufferedBytes) == 12, "A's partial line is pending");
        b.Send("B-line\n"u8);

        SocketIo.ReceiveUntilClosed(b).Should().BeEmpty("B is refused, and sees none of A's bytes");
        (ConnectionCloseReason reason, Exception? error) = Wait.Result(shared.Closes.Task);
        reason.Should().Be(ConnectionCloseReason.HandlerFault);
        error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("already serves another connection");
        a.Send("rest\n"u8);
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(a, 17)).Should().Be("secret-of-A rest\n", "A's state is untouched");
    }

    [Fact]
    public void SuspendUntil_OffTheReactorThread_ThrowsAndChangesNothing()
    {
        // Before, the call threw but left the handler suspended with reading on: every later read was buffered
        // without a cap (2 MB against a 100-byte maximum) and nothing was parsed again.
        var handler = new EchoLines();
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        client.Send("hello\n"u8);
        SocketIo.ReceiveExactly(client, 6);

        Action offThread = () => handler.SuspendFromElsewhere(new TaskCompletionSource().Task);

        offThread.Should().Throw<InvalidOperationException>().WithMessage("*reactor thread*");
        harness.Running.Invoke(() => handler.Suspended).Should().BeFalse();
        client.Send("still parsed\n"u8);
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(client, 13)).Should().Be("still parsed\n");
        client.Send(new byte[200]); // no newline: past the 100-byte maximum
        SocketIo.ReceiveUntilClosed(client).Should().BeEmpty();
        Wait.Result(handler.Closes.Task).Reason.Should().Be(ConnectionCloseReason.FrameTooLarge, "the cap still holds");
    }

    [Fact]
    public void FrameWorkCompletedAtOnce_IsConsumed_AsAValueTaskMustBe()
    {
        var source = new CountingSource();
        var handler = new CompletedWork(source);
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send("ab\ncd\nef\n"u8);
        Wait.Until(() => handler.Frames == 3, "three frames handled");

        source.Results.Should().Be(3, "GetResult once per ValueTask, so a pooled source can be reused");
    }

    [Fact]
    public void DecoderMaxima_TheHandlerCouldNotHold_AreRefusedByTheFactories_NamingTheirOwnArgument()
    {
        // Before, these passed and the handler's constructor then threw, naming maxBufferedBytes.
        FluentActions.Invoking(() => FrameDecoder.FixedLength(Array.MaxLength))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frameLength");
        FluentActions.Invoking(() => FrameDecoder.LengthField(4, Array.MaxLength))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxFrameLength");

        FluentActions.Invoking(() => new FixedHandler(FrameDecoder.FixedLength(Array.MaxLength - 1))).Should().NotThrow();
        FluentActions.Invoking(() => new FixedHandler(FrameDecoder.LengthField(4, Array.MaxLength - 1))).Should().NotThrow();
        FluentActions.Invoking(() => new FixedHandler(FrameDecoder.Lines(Array.MaxLength - 2))).Should().NotThrow();
        FluentActions.Invoking(() => new FixedHandler(FrameDecoder.Delimited("--"u8, Array.MaxLength - 2))).Should().NotThrow();
    }

    [Fact]
    public void OutputSizeHint_AboveWhatTheConnectionMayQueue_IsRefused_OpenOrClosed()
    {
        // Before: int.MaxValue gave OutOfMemoryException, Array.MaxLength allocated 2 GiB, and after a close a
        // 512 MiB scratch array was allocated and kept.
        var results = new ConcurrentQueue<string>();
        var handler = new DelegateHandler
        {
            Data = (c, _) =>
            {
                results.Enqueue(Attempt(() => c.Output.GetSpan(int.MaxValue).Length));
                results.Enqueue(Attempt(() => c.Output.GetMemory(512 * 1024 * 1024).Length));
                results.Enqueue(Attempt(() => c.Output.GetSpan(-1).Length));
                results.Enqueue(Attempt(() => c.Output.GetSpan((int)c.Options.MaxPendingSendBytes).Length >= c.Options.MaxPendingSendBytes ? 1 : 0));
                c.Output.Advance(0);
                c.Shutdown();
                results.Enqueue(Attempt(() => c.Output.GetSpan(512 * 1024 * 1024).Length));
                results.Enqueue("done");
            },
        };
        using var harness = new ServerHarness(() => handler, new TcpServerOptions { Connection = { MaxPendingSendBytes = 1024 * 1024 } });
        using Socket client = harness.Connect();

        client.Send(new byte[] { 1 });
        Wait.Until(() => results.Contains("done"), "the handler tried every size");

        results.Should().Equal(
            "ArgumentOutOfRangeException: sizeHint",
            "ArgumentOutOfRangeException: sizeHint",
            "ArgumentOutOfRangeException: sizeHint",
            "1",
            "ArgumentOutOfRangeException: sizeHint",
            "done");

        static string Attempt(Func<int> call)
        {
            try
            {
                return call().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (ArgumentOutOfRangeException e)
            {
                e.Message.Should().Contain(e.ParamName == "sizeHint" && e.ActualValue is int hint && hint < 0 ? "negative" : "MaxPendingSendBytes");
                return $"{e.GetType().Name}: {e.ParamName}";
            }
        }
    }

    /// <summary>Echoes each line; records the first close; can be asked to suspend from a test thread.</summary>
    private sealed class EchoLines() : FramedConnectionHandler(FrameDecoder.Lines(100))
    {
        public TaskCompletionSource<(ConnectionCloseReason Reason, Exception? Error)> Closes { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Suspended => IsSuspended;

        public new int BufferedBytes => base.BufferedBytes;

        public void SuspendFromElsewhere(Task work) => SuspendUntil(new ValueTask(work));

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
        {
            connection.Send(frame);
            connection.Send("\n"u8);
            return default;
        }

        protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
            => Closes.TrySetResult((reason, error));
    }

    /// <summary>Returns work that has already completed, through a source that counts its results.</summary>
    private sealed class CompletedWork(CountingSource source) : FramedConnectionHandler(FrameDecoder.Lines(100))
    {
        private int _frames;

        public int Frames => Volatile.Read(ref _frames);

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
        {
            Interlocked.Increment(ref _frames);
            return new ValueTask(source, 0);
        }
    }

    private sealed class CountingSource : IValueTaskSource
    {
        private int _results;

        public int Results => Volatile.Read(ref _results);

        public ValueTaskSourceStatus GetStatus(short token) => ValueTaskSourceStatus.Succeeded;

        public void GetResult(short token) => Interlocked.Increment(ref _results);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) => continuation(state);
    }

    private sealed class FixedHandler(FrameDecoder decoder) : FramedConnectionHandler(decoder)
    {
        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame) => default;
    }
}
