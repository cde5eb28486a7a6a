using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;

namespace SelectReactor.Hosting.Internal;

/// <summary>
/// Runs the hosted reactor on a dedicated thread from the host's start to its stop, and the TCP servers added with
/// <c>AddTcpServer</c> on it. Stopping is graceful within the host's shutdown time: servers stop accepting and close
/// their connections, then the loop stops, its thread is joined and the reactor disposed (which resets whatever
/// connection was still closing when the time ran out).
/// </summary>
internal sealed class ReactorHostedService : IHostedService
{
    private readonly Reactor _reactor;
    private readonly IServiceProvider _services;
    private readonly TcpServerSpec[] _specs;
    private readonly TcpServerRegistry _registry;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Thread? _thread;
    private Task? _stopped;

    public ReactorHostedService(
        Reactor reactor,
        IServiceProvider services,
        IEnumerable<TcpServerSpec> specs,
        TcpServerRegistry registry,
        IHostApplicationLifetime? lifetime,
        ILogger logger)
    {
        _reactor = reactor;
        _services = services;
        _specs = specs.ToArray();
        _registry = registry;
        _lifetime = lifetime;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_thread is not null || _stopped is not null)
            {
                throw new InvalidOperationException("The reactor's hosted service can start only once.");
            }

            // A background thread: a host that is never stopped must not keep the process alive by this thread alone.
            _thread = new Thread(RunLoop) { IsBackground = true, Name = _reactor.Name };
            _thread.Start();
        }

        // Binding happens here, on the host's thread, so that a port in use fails the host's start.
        foreach (TcpServerSpec spec in _specs)
        {
            TcpServer server;
            try
            {
                // Inconsistent connection options or a handler type without a usable constructor throw here.
                server = new TcpServer(_reactor, spec.EndPoint, spec.HandlerFactory(_services), spec.Options);
                server.Start();
            }
            catch (Exception e)
            {
                HostingLog.ServerStartFailed(_logger, _reactor.Name, spec.EndPoint.ToString() ?? "?", e);
                StopAsync(new CancellationToken(canceled: true)).GetAwaiter().GetResult();
                throw;
            }

            _registry.Add(server, spec.HandlerType);
        }

        HostingLog.Started(_logger, _reactor.Name, _specs.Length);
        return Task.CompletedTask;
    }

    /// <summary>Stops once; later calls return the same task. Safe from any thread.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stopped ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<TcpServer> servers = _registry.Servers;
        int connections = 0;
        foreach (TcpServer server in servers)
        {
            connections += server.ConnectionCount;
            server.Stop();
        }

        HostingLog.Stopping(_logger, _reactor.Name, servers.Count, connections);
        try
        {
            await Task.WhenAll(servers.Select(s => s.Completion)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Expected when the host's shutdown time runs out (or the token came cancelled): disposing the reactor
            // below resets the connections still closing.
            HostingLog.ShutdownCut(_logger, _reactor.Name, servers.Sum(s => s.ConnectionCount));
        }

        // Stop wakes the loop, which returns after its current tick; only a handler callback that never returns
        // could hold the join, and no timeout could save that thread anyway.
        _reactor.Stop();
        Thread? thread;
        lock (_gate)
        {
            thread = _thread;
        }

        thread?.Join();
        _reactor.Dispose();
        HostingLog.Stopped(_logger, _reactor.Name);
    }

    private void RunLoop()
    {
        try
        {
            _reactor.Run();
        }
        catch (Exception e)
        {
            // Run throws only when select keeps failing with no socket to blame (or the reactor was disposed before
            // the loop began). Nothing can catch it above this thread, and an escaped exception would end the process
            // without a graceful stop: log it and ask the host to stop, as it does for a failed background service.
            HostingLog.LoopFailed(_logger, _reactor.Name, e);
            _lifetime?.StopApplication();
        }
    }
}
