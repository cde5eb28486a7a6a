using System;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Framing;

/// <summary>
/// Awaiting inside a framed handler: continuations on the reactor thread, requests answered in order (frames
/// already received wait), a failure ending only its own connection, and a reactor disposed mid-await.
/// </summary>
public sealed class AsyncFrameTests
{
    [Fact]
    public void AwaitingFrame_PipelinedWithOthersInOneSend_RepliesInOrderFromTheReactorThread()
    {
        var handler = new ScriptedLines();
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send("sleep 150\na\nyield\nb\n"u8);
        string replies = Encoding.ASCII.GetString(SocketIo.ReceiveExactly(client, "slept on reactor\na\nyielded on reactor\nb\n".Length));

        replies.Should().Be("slept on reactor\na\nyielded on reactor\nb\n");
        handler.Log.Should().Equal("start sleep 150", "end sleep 150", "a", "start yield", "end yield", "b");
    }

    [Fact]
    public void AwaitingFrame_FramesFromTheSameReadAndLaterOnes_WaitInOrder()
    {
        var handler = new ScriptedLines();
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send("gate\nafter1\n"u8);
        Wait.Until(() => handler.Gate is not null, "the handler awaits its gate");
        int waiting = harness.Running.Invoke(() => handler.BufferedBytes);
        string[] logWhileWaiting = handler.Log;
        client.Send("after2\n"u8);
        handler.Gate!.SetResult();
        string replies = Encoding.ASCII.GetString(SocketIo.ReceiveExactly(client, "gated on reactor\nafter1\nafter2\n".Length));

        waiting.Should().Be(7, "the frame received in the same read waits in the pending buffer");
        logWhileWaiting.Should().Equal("start gate");
        replies.Should().Be("gated on reactor\nafter1\nafter2\n");
        harness.Running.Invoke(() => handler.BufferCapacity).Should().Be(0);
    }

    [Fact]
    public void FailingAwait_ClosesOnlyItsConnection_WithHandlerFault()
    {
        var handlers = new ConcurrentQueue<ScriptedLines>();
        using var harness = new ServerHarness(() =>
        {
            var h = new ScriptedLines();
            handlers.Enqueue(h);
            return h;
        });
        using Socket bystander = harness.Connect();
        using Socket victim = harness.Connect();
        bystander.Send("hello\n"u8);
        SocketIo.ReceiveExactly(bystander, 6);

        victim.Send("fail\nnever\n"u8);
        ScriptedLines failed = null!;
        Wait.Until(() => (failed = Array.Find(handlers.ToArray(), h => h.Closed.Task.IsCompleted)!) is not null, "a connection closed");
        var (reason, error) = Wait.Result(failed.Closed.Task);

        reason.Should().Be(ConnectionCloseReason.HandlerFault);
        error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("the database said no");
        failed.Log.Should().NotContain("never");
        bystander.Send("still here\n"u8);
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(bystander, 11)).Should().Be("still here\n");
    }

    [Fact]
    public void AlreadyFailedWork_ClosesWithHandlerFault()
    {
        var handler = new ScriptedLines();
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();

        client.Send("fail-now\n"u8);

        var (reason, error) = Wait.Result(handler.Closed.Task);
        reason.Should().Be(ConnectionCloseReason.HandlerFault);
        error.Should().BeOfType<InvalidOperationException>();
    }

    [Fact]
    public void ReactorDisposedWhileAwaiting_ClosesWithReactorDisposed_ReturnsTheBuffer_AndDropsTheRest()
    {
        var handler = new ScriptedLines();
        var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        client.Send("gate\npending"u8);
        Wait.Until(() => handler.Gate is not null, "the handler awaits its gate");
        Wait.Until(() => harness.Running.Invoke(() => handler.BufferedBytes) == 7, "the bytes after the gate wait in the buffer");

        harness.Dispose();
        var (reason, _) = Wait.Result(handler.Closed.Task);
        handler.Gate!.SetResult(); // completes after the reactor is gone: the continuation has nowhere to run

        reason.Should().Be(ConnectionCloseReason.ReactorDisposed);
        handler.BufferedBytes.Should().Be(0);
        handler.BufferCapacity.Should().Be(0, "the pending buffer went back to the pool when the connection closed");
        // Asserting that something does not happen needs a window: 200 ms for a dropped continuation to show up.
        Task.Delay(200).Wait();
        handler.Log.Should().Equal("start gate");
    }

    [Fact]
    public void AwaitingFrame_WorkCompletingOnTheReactor_ResumesParsingInTheSameTick()
    {
        // Driven tick by tick: a frame whose handler awaits Task.Yield suspends; the next tick runs the continuation,
        // and the work's completion must resume parsing right there (inline), not by a hop through the thread pool,
        // which would leave the next frame waiting for a later tick.
        var handler = new YieldingCounter();
        using var direct = new DirectConnection(handler);

        for (int round = 1; round <= 20; round++)
        {
            direct.Feed([[1, 2]]); // the frame arrives; its handler suspends
            direct.Reactor.RunOnce(TimeSpan.Zero); // the continuation runs, the work completes, parsing resumes

            handler.Count.Should().Be(round, $"round {round}'s frame was handled within its two ticks");
            handler.BufferedBytes.Should().Be(0);
            handler.Suspended.Should().BeFalse();
        }
    }

    /// <summary>
    /// Lines as commands: "sleep N" awaits Task.Delay, "yield" awaits Task.Yield, "gate" awaits a test-controlled
    /// task, "fail" fails after an await, "fail-now" returns failed work; anything else is echoed at once.
    /// </summary>
    private sealed class ScriptedLines() : FramedConnectionHandler(FrameDecoder.Lines(100))
    {
        public ConcurrentQueue<string> LogQueue { get; } = new();

        public string[] Log => LogQueue.ToArray();

        public volatile TaskCompletionSource? Gate;

        public TcpConnection? Connection { get; private set; }

        public TaskCompletionSource<(ConnectionCloseReason Reason, Exception? Error)> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void OnConnected(TcpConnection connection) => Connection = connection;

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
        {
            string line = Encoding.ASCII.GetString(frame);
            if (line.StartsWith("sleep ", StringComparison.Ordinal))
            {
                return Work(connection, line, () => Task.Delay(int.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture)), "slept");
            }

            switch (line)
            {
                case "yield":
                    return Work(connection, line, async () => await Task.Yield(), "yielded");
                case "gate":
                    var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Gate = gate;
                    return Work(connection, line, () => gate.Task, "gated");
                case "fail":
                    return Work(connection, line, async () =>
                    {
                        await Task.Delay(10);
                        throw new InvalidOperationException("the database said no");
                    }, "failed");
                case "fail-now":
                    return ValueTask.FromException(new InvalidOperationException("at once"));
            }

            LogQueue.Enqueue(line);
            connection.Send(Encoding.ASCII.GetBytes(line + "\n"));
            return default;
        }

        protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
            => Closed.TrySetResult((reason, error));

        private async ValueTask Work(TcpConnection connection, string line, Func<Task> work, string done)
        {
            LogQueue.Enqueue("start " + line);
            await work();
            LogQueue.Enqueue("end " + line);
            string where = connection.Reactor.IsOnReactorThread ? "on reactor" : "ELSEWHERE";
            connection.Send(Encoding.ASCII.GetBytes($"{done} {where}\n"));
        }
    }

    /// <summary>Two-byte frames; each one awaits Task.Yield, then counts.</summary>
    private sealed class YieldingCounter() : FramedConnectionHandler(FrameDecoder.FixedLength(2))
    {
        public int Count { get; private set; }

        public bool Suspended => IsSuspended;

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame) => Handle();

        private async ValueTask Handle()
        {
            await Task.Yield();
            Count++;
        }
    }
}
