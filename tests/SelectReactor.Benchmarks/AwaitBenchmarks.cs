using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using SelectReactor.Net;

namespace SelectReactor.Benchmarks;

/// <summary>
/// The cost of one <c>await</c> inside a framed handler, end to end on the reactor: a frame is handed to the
/// handler (as a read would), the handler's async method awaits <see cref="Task.Yield"/> (which always suspends and
/// posts its continuation to the reactor's synchronization context), reading pauses, and one tick runs the
/// continuation, completes the work, resumes parsing and reading. The baseline handles the same frame without
/// awaiting and runs the same tick; the difference is the price of the await.
/// </summary>
[MemoryDiagnoser]
public class AwaitBenchmarks
{
    private static readonly byte[] Frame = [0, 4, 1, 2, 3, 4];

    private LoopbackPairs _pair = null!;
    private Reactor _reactor = null!;
    private TcpConnection _sync = null!;
    private TcpConnection _yielding = null!;
    private TcpConnection _pooled = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pair = new LoopbackPairs(3);
        _reactor = new Reactor();
        _sync = Start(_pair.Servers[0], new Frames(Mode.Sync));
        _yielding = Start(_pair.Servers[1], new Frames(Mode.Yield));
        _pooled = Start(_pair.Servers[2], new Frames(Mode.PooledYield));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Each benchmark runs in its own process, so only one handler has counted: together they must have.
        int handled = 0;
        foreach (TcpConnection connection in new[] { _sync, _yielding, _pooled })
        {
            handled += ((Frames)connection.Handler).Count;
        }

        if (handled == 0)
        {
            throw new InvalidOperationException("No frame was handled: the benchmark measured nothing.");
        }

        _reactor.Dispose();
        _pair.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int SyncFrame() => Deliver(_sync);

    [Benchmark]
    public int AwaitingFrame() => Deliver(_yielding);

    [Benchmark]
    public int AwaitingFramePooledBuilder() => Deliver(_pooled);

    private int Deliver(TcpConnection connection)
    {
        _reactor.Post(static c => c.Handler.OnData(c, Frame), connection);
        _reactor.RunOnce(TimeSpan.Zero); // the "read": the frame is parsed, an awaiting handler suspends
        return _reactor.RunOnce(TimeSpan.Zero); // the continuation, the end of the work, parsing and reading resumed
    }

    private TcpConnection Start(System.Net.Sockets.Socket socket, Frames handler)
    {
        var connection = new TcpConnection(_reactor, socket, handler, new TcpConnectionOptions(), NullLogger.Instance, null);
        _reactor.Post(static c => c.StartAccepted(), connection);
        _reactor.RunOnce(TimeSpan.Zero);
        return connection;
    }

    private enum Mode
    {
        Sync,
        Yield,
        PooledYield,
    }

    private sealed class Frames(Mode mode) : FramedConnectionHandler(FrameDecoder.LengthField(2, 64))
    {
        public int Count { get; private set; }


        protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> frame) => mode switch
        {
            Mode.Sync => Handle(),
            Mode.Yield => Await(),
            _ => AwaitPooled(),
        };

        private ValueTask Handle()
        {
            Count++;
            return default;
        }

        private async ValueTask Await()
        {
            await Task.Yield();
            Count++;
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask AwaitPooled()
        {
            await Task.Yield();
            Count++;
        }
    }
}
