using System;
using BenchmarkDotNet.Attributes;
using SelectReactor.Net;

namespace SelectReactor.Benchmarks;

/// <summary>
/// The connection's send queue on its own: appending what a socket would not take, and consuming it as the socket
/// drains. Segments are pooled, so steady state allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class SendQueueBenchmarks
{
    private readonly SendQueue _queue = new();
    private byte[] _message = [];

    [Params(64, 16 * 1024)]
    public int MessageSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _message = new byte[MessageSize];
        AppendThenFlush(); // warm the pool and the ring
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Clear();

    /// <summary>64 messages appended, then flushed in 16 KiB "sends" the way OnWritable drains the queue.</summary>
    [Benchmark(OperationsPerInvoke = 64)]
    public long AppendThenFlush()
    {
        for (int i = 0; i < 64; i++)
        {
            _queue.Append(_message);
        }

        long flushed = 0;
        while (_queue.Length > 0)
        {
            int chunk = Math.Min(_queue.Head.Length, 16 * 1024);
            _queue.Consume(chunk);
            flushed += chunk;
        }

        return flushed;
    }
}
