using System;
using System.Collections.Generic;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace SelectReactor.Benchmarks;

/// <summary>
/// The cost per ready socket: 64 connected server sockets registered for write (always writable), each tick
/// dispatching 64 <see cref="IEventHandler.OnWritable"/> callbacks. Reported per callback. The baseline is a bare
/// <c>Socket.Select</c> over the same 64 sockets in the write list, so the difference is the reactor's per-socket
/// fill, map-back and dispatch cost on top of the kernel's poll.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Ready = 64;

    private LoopbackPairs _pairs = null!;
    private Reactor _reactor = null!;
    private CountingHandler _handler = null!;
    private List<Socket> _list = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pairs = new LoopbackPairs(Ready);
        _handler = new CountingHandler();
        _list = new List<Socket>(Ready);
        _reactor = new Reactor();
        foreach (Socket server in _pairs.Servers)
        {
            _reactor.Register(server, _handler, Interest.Write);
        }

        int dispatched = _reactor.RunOnce(TimeSpan.Zero);
        if (dispatched != Ready)
        {
            throw new InvalidOperationException($"Expected {Ready} writable callbacks per tick, saw {dispatched}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Dispose();
        _pairs.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ready)]
    public int BareSelectAllWritable()
    {
        List<Socket> list = _list;
        list.Clear();
        Socket[] servers = _pairs.Servers;
        for (int i = 0; i < servers.Length; i++)
        {
            list.Add(servers[i]);
        }

        Socket.Select(null, list, null, 0);
        return list.Count;
    }

    [Benchmark(OperationsPerInvoke = Ready)]
    public int RunOnceAllWritable() => _reactor.RunOnce(TimeSpan.Zero);
}
