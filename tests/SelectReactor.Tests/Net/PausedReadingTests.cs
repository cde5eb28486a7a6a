using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>
/// A connection that is not reading (paused by its handler, or waiting for async work) still notices a peer's reset:
/// it ends then, not when reading resumes, which for work that never completes would be never.
/// </summary>
public sealed class PausedReadingTests
{
    [Fact]
    public void PausedByTheHandler_PeerResets_ClosesWithConnectionReset_WithoutReadingAnything()
    {
        var closed = new TaskCompletionSource<ConnectionCloseReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        int dataCalls = 0;
        var handler = new DelegateHandler
        {
            Connected = c => c.PauseReading(),
            Data = (_, _) => Interlocked.Increment(ref dataCalls),
            Closed = (_, reason, _) => closed.TrySetResult(reason),
        };
        using var harness = new ServerHarness(() => handler);
        Socket client = harness.Connect();
        client.Send("unread"u8);

        client.Dispose(); // linger 0: a reset

        Wait.Result(closed.Task).Should().Be(ConnectionCloseReason.ConnectionReset);
        Volatile.Read(ref dataCalls).Should().Be(0, "a paused connection reads nothing, even to find the reset");
    }

    [Fact]
    public void WaitingForWorkThatNeverCompletes_PeerResets_ClosesWithConnectionReset()
    {
        var handler = new NeverDone();
        using var harness = new ServerHarness(() => handler);
        Socket client = harness.Connect();
        client.Send("request\n"u8);
        Wait.Until(() => handler.Started, "the work started");

        client.Dispose(); // linger 0: a reset

        Wait.Result(handler.Closed.Task).Should().Be(ConnectionCloseReason.ConnectionReset);
    }

    [Fact]
    public void Paused_UrgentData_DoesNotMakeTheLoopSpin_AndTheConnectionCarriesOnWhenResumed()
    {
        TcpConnection? connection = null;
        var handler = new DelegateHandler
        {
            Connected = c =>
            {
                connection = c;
                c.PauseReading();
            },
            Data = (c, data) => c.Send(data),
        };
        using var harness = new ServerHarness(() => handler);
        using Socket client = harness.Connect();
        Wait.Until(() => connection is not null, "connected");
        long selects = 0;
        harness.Running.Invoke(() =>
        {
            SelectCall inner = harness.Reactor.SelectImplementation;
            harness.Reactor.SelectImplementation = (read, write, error, micros) =>
            {
                Interlocked.Increment(ref selects);
                inner(read, write, error, micros);
            };
            return true;
        });

        client.Send([7], SocketFlags.OutOfBand); // flags the socket (POLLPRI) until it is read past
        var window = Stopwatch.StartNew();
        Wait.Until(() => window.ElapsedMilliseconds >= 300, "300 ms pass");
        long during = Interlocked.Read(ref selects);

        during.Should().BeLessThan(100, "a flag that reading would clear is not watched while paused (a spin is ~100,000)");
        harness.Running.Invoke(() =>
        {
            connection!.ResumeReading();
            return true;
        });
        client.Send("after"u8);
        System.Text.Encoding.ASCII.GetString(SocketIo.ReceiveExactly(client, 5)).Should().Be("after");
    }

    /// <summary>Each line starts work that never completes.</summary>
    private sealed class NeverDone() : FramedConnectionHandler(FrameDecoder.Lines(100))
    {
        private volatile bool _started;

        public bool Started => _started;

        public TaskCompletionSource<ConnectionCloseReason> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
        {
            _started = true;
            return new ValueTask(new TaskCompletionSource().Task);
        }

        protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
            => Closed.TrySetResult(reason);
    }
}
