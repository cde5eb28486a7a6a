using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;
using SelectReactor.Tests.Net;
using Xunit.Abstractions;

namespace SelectReactor.Tests.Robustness;

/// <summary>
/// A mixed load for a set time: echoes through blocking clients and through the library's own connector, resets,
/// idle timeouts, and timer churn. At the end descriptors, registrations, pooled buffers and the managed heap must
/// be back where they started. Runs for SELECTREACTOR_SOAK_SECONDS (CI: 60; default 3).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int HeapToleranceBytes = 8 * 1024 * 1024;

    [Fact]
    public void Soak_MixedLoad_LeavesNothingBehind()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("SELECTREACTOR_SOAK_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 3;

        // A short warm-up first, so that pools, caches and JIT state reach their working size before the baseline.
        RunLoad(TimeSpan.FromSeconds(Math.Min(2, seconds)), out _);
        SettleHeap();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        int descriptorsBefore = LeakTests.OpenDescriptors();
        BufferPool.IsCounting.Should().BeTrue("the test project turns buffer counting on, or this test proves nothing");
        long buffersBefore = BufferPool.Outstanding;

        var clock = Stopwatch.StartNew();
        RunLoad(TimeSpan.FromSeconds(seconds), out Counters counters);
        output.WriteLine($"soak {clock.Elapsed.TotalSeconds:F1} s: {counters}");

        SettleHeap();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        int descriptorsAfter = LeakTests.OpenDescriptors();
        output.WriteLine($"heap {heapBefore / 1024} KiB -> {heapAfter / 1024} KiB; descriptors {descriptorsBefore} -> {descriptorsAfter}; buffers out {buffersBefore} -> {BufferPool.Outstanding}");

        counters.EchoErrors.Should().Be(0);
        counters.Echoes.Should().BeGreaterThan(0);
        counters.ConnectorEchoes.Should().BeGreaterThan(0);
        counters.Resets.Should().BeGreaterThan(0);
        counters.IdleClosed.Should().BeGreaterThan(0);
        counters.TimersFired.Should().BeGreaterThan(0);
        descriptorsAfter.Should().BeLessThanOrEqualTo(descriptorsBefore + 2);
        BufferPool.Outstanding.Should().Be(buffersBefore);
        heapAfter.Should().BeLessThan(heapBefore + HeapToleranceBytes);
    }

    private static void SettleHeap()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static void RunLoad(TimeSpan duration, out Counters counters)
    {
        var c = new Counters();
        var serverOptions = new TcpServerOptions { MaxConnections = 4_000, Connection = { IdleTimeout = TimeSpan.FromMilliseconds(300), CloseTimeout = TimeSpan.FromSeconds(2) } };
        using var server = new ServerHarness(() => new TestEchoHandler(), serverOptions);
        using var clients = new RunningReactor(new ReactorOptions { Name = "soak-clients" });
        DateTime deadline = DateTime.UtcNow + duration;

        // Timer churn on the server's reactor: a periodic timer that schedules and cancels one-shots.
        IDisposable churn = server.Reactor.SchedulePeriodic(TimeSpan.FromMilliseconds(5), () =>
        {
            Interlocked.Increment(ref c.TimersFired);
            server.Reactor.Schedule(TimeSpan.FromMinutes(5), () => { }).Dispose();
            server.Reactor.Schedule(TimeSpan.Zero, () => Interlocked.Increment(ref c.TimersFired));
        });

        var blocking = Enumerable.Range(0, 3).Select(t => Task.Factory.StartNew(() => BlockingClientLoop(server, t, deadline, c), TaskCreationOptions.LongRunning)).ToArray();
        var connector = Task.Factory.StartNew(() => ConnectorLoop(clients, server.EndPoint, deadline, c), TaskCreationOptions.LongRunning);
        Task.WaitAll([.. blocking, connector], duration + Wait.Generous).Should().BeTrue("the load stops by itself");

        churn.Dispose();
        Wait.Until(() => server.Server.ConnectionCount == 0, "every server connection closed");
        Wait.Until(() => clients.Reactor.RegistrationCount == 0, "every client connection closed");
        server.Reactor.RegistrationCount.Should().Be(1, "only the listener is left");
        server.Running.Invoke(() => server.Reactor.TimerHeapCount).Should().BeLessThan(200, "cancelled timers do not pile up");
        server.Running.LoopError.Should().BeNull();
        clients.LoopError.Should().BeNull();
        counters = c;
    }

    private static void BlockingClientLoop(ServerHarness server, int seed, DateTime deadline, Counters c)
    {
        var random = new Random(seed);
        while (DateTime.UtcNow < deadline)
        {
            int kind = random.Next(10);
            using Socket client = server.Connect();
            if (kind < 6)
            {
                byte[] payload = new byte[random.Next(1, 64 * 1024)];
                random.NextBytes(payload);
                var reader = Task.Run(() => SocketIo.ReceiveToEnd(client));
                client.Send(payload);
                client.Shutdown(SocketShutdown.Send);
                if (Wait.Result(reader).AsSpan().SequenceEqual(payload))
                {
                    Interlocked.Increment(ref c.Echoes);
                }
                else
                {
                    Interlocked.Increment(ref c.EchoErrors);
                }
            }
            else if (kind < 9)
            {
                client.Send(new byte[random.Next(1, 8 * 1024)]);
                client.LingerState = new LingerOption(true, 0);
                client.Close();
                Interlocked.Increment(ref c.Resets);
            }
            else
            {
                // Say nothing: the server's idle timeout ends the connection.
                if (client.Receive(new byte[1]) == 0)
                {
                    Interlocked.Increment(ref c.IdleClosed);
                }
            }
        }
    }

    private static void ConnectorLoop(RunningReactor clients, EndPoint endPoint, DateTime deadline, Counters c)
    {
        while (DateTime.UtcNow < deadline)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var handler = new SoakClientHandler(c, done);
            clients.Reactor.Post(() => TcpConnector.Connect(clients.Reactor, endPoint, handler));
            Wait.For(done.Task);
        }
    }

    private sealed class SoakClientHandler(Counters counters, TaskCompletionSource done) : ConnectionHandler
    {
        private static readonly byte[] Message = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        private int _received;
        private bool _mismatch;

        public override void OnConnected(TcpConnection connection)
        {
            connection.Send(Message);
            connection.Shutdown();
        }

        public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
        {
            if (_received + data.Length > Message.Length || !data.SequenceEqual(Message.AsSpan(_received, data.Length)))
            {
                _mismatch = true;
            }

            _received += data.Length;
        }

        public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
        {
            if (_mismatch || _received != Message.Length || reason != ConnectionCloseReason.LocalClose)
            {
                Interlocked.Increment(ref counters.EchoErrors);
            }
            else
            {
                Interlocked.Increment(ref counters.ConnectorEchoes);
            }

            done.TrySetResult();
        }
    }

    private sealed class Counters
    {
        public long Echoes;
        public long ConnectorEchoes;
        public long EchoErrors;
        public long Resets;
        public long IdleClosed;
        public long TimersFired;

        public override string ToString() =>
            $"{Echoes} echoes, {ConnectorEchoes} connector echoes, {EchoErrors} echo errors, {Resets} resets, {IdleClosed} idle timeouts, {TimersFired} timer callbacks";
    }
}
