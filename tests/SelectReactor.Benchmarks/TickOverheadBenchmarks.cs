using System;
using System.Collections.Generic;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace SelectReactor.Benchmarks;

/// <summary>
/// The cost of one idle tick: a bare <c>Socket.Select</c> over N never-ready sockets (the baseline) against
/// <see cref="Reactor.RunOnce"/> over the same N sockets registered for read. The difference is the reactor's own
/// per-tick overhead (list refill, queue and timer checks, the wake-up socket, loop entry and exit).
/// </summary>
[MemoryDiagnoser]
public class TickOverheadBenchmarks
{
    private LoopbackPairs _pairs = null!;
    private List<Socket> _list = null!;
    private Reactor _reactor = null!;
    private CountingHandler _handler = null!;

    [Params(2, 200, 2000)]
    public int Sockets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pairs = new LoopbackPairs(Sockets);
        _list = new List<Socket>(Sockets);
        _handler = new CountingHandler();
        _reactor = new Reactor();
        foreach (Socket server in _pairs.Servers)
        {
            _reactor.Register(server, _handler, Interest.Read);
        }

        // Nothing is sent, so no server socket is ever ready: both benchmarks measure a pure poll.
        _reactor.RunOnce(TimeSpan.Zero);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Dispose();
        _pairs.Dispose();
        if (_handler.Count != 0)
        {
            throw new InvalidOperationException($"Expected no readiness callbacks, saw {_handler.Count}.");
        }
    }

    [Benchmark(Baseline = true)]
    public int BareSelect()
    {
        List<Socket> list = _list;
        list.Clear();
        Socket[] servers = _pairs.Servers;
        for (int i = 0; i < servers.Length; i++)
        {
            list.Add(servers[i]);
        }

        Socket.Select(list, null, null, 0);
        return list.Count;
    }

    [Benchmark]
    public int ReactorTick() => _reactor.RunOnce(TimeSpan.Zero);
}
