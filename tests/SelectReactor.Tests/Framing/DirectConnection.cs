using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Framing;

/// <summary>
/// A real <see cref="TcpConnection"/> on a real loopback socket, whose handler is fed chunks directly on the reactor
/// thread: the exact splits a test asks for, thousands of times per second, with nothing in between but the
/// handler's own code. The reactor runs tick by tick on the test thread.
/// </summary>
internal sealed class DirectConnection : IDisposable
{
    private readonly SocketPair _pair;

    public DirectConnection(ConnectionHandler handler)
    {
        Reactor = new Reactor();
        _pair = Loopback.Pair();
        Connection = new TcpConnection(Reactor, _pair.Server, handler, new TcpConnectionOptions(), NullLogger.Instance, null);
        OnReactor(() => Connection.StartAccepted());
    }

    public Reactor Reactor { get; }

    public TcpConnection Connection { get; }

    /// <summary>Delivers each chunk as one read, in order, stopping if the connection stops being open.</summary>
    public void Feed(IEnumerable<byte[]> chunks)
    {
        OnReactor(() =>
        {
            foreach (byte[] chunk in chunks)
            {
                if (!Connection.IsOpen)
                {
                    return;
                }

                Connection.Handler.OnData(Connection, chunk);
            }
        });
    }

    public void Feed(params byte[][] chunks) => Feed((IEnumerable<byte[]>)chunks);

    /// <summary>Runs <paramref name="action"/> on the reactor thread (this thread, inside one tick).</summary>
    public void OnReactor(Action action)
    {
        Exception? error = null;
        Reactor.Post(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        Reactor.RunOnce(TimeSpan.Zero);
        if (error is not null)
        {
            throw new InvalidOperationException("the action failed on the reactor thread", error);
        }
    }

    /// <summary>Runs ticks until <paramref name="condition"/> holds (bounded).</summary>
    public void RunUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait.Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            Reactor.RunOnce(TimeSpan.FromMilliseconds(10));
        }
    }

    public void Dispose()
    {
        Reactor.Dispose();
        _pair.Dispose();
    }
}

/// <summary>Records every frame (copied) and how the connection ended.</summary>
internal sealed class RecordingFramedHandler(FrameDecoder decoder) : FramedConnectionHandler(decoder)
{
    public List<byte[]> Frames { get; } = [];

    public TaskCompletionSource<(ConnectionCloseReason Reason, Exception? Error)> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int TooLargeCalls { get; private set; }

    /// <summary>Called for each frame after it is recorded; may return work to wait for.</summary>
    public Func<TcpConnection, byte[], ValueTask>? OnEachFrame { get; set; }

    /// <summary>The largest pending buffer seen while a frame was delivered: 0 means every frame came without a copy.</summary>
    public int MaxCapacitySeen { get; set; }

    protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame)
    {
        MaxCapacitySeen = Math.Max(MaxCapacitySeen, BufferCapacity);
        byte[] copy = frame.ToArray();
        Frames.Add(copy);
        return OnEachFrame?.Invoke(connection, copy) ?? default;
    }

    protected override void OnFrameTooLarge(TcpConnection connection) => TooLargeCalls++;

    protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
        => Closed.TrySetResult((reason, error));
}

/// <summary>Forwards every event to a handler that a test may replace between inputs.</summary>
internal sealed class SwitchHandler : ConnectionHandler
{
    public ConnectionHandler Inner { get; set; } = null!;

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => Inner.OnData(connection, data);

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error) => Inner.OnClosed(connection, reason, error);
}
