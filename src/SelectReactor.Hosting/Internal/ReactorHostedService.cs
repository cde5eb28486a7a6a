using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>
/// Runs the hosted reactors from the host's start to its stop, and the TCP servers added with <c>AddTcpServer</c> on
/// them. Stopping is graceful within the host's shutdown time: servers stop accepting and close their connections,
/// then the loops stop and the reactors are disposed (which resets whatever connection was still closing).
/// </summary>
/// <remarks>
/// A stop may be asked for from a reactor callback (a handler calling <c>IHostApplicationLifetime.StopApplication</c>,
/// or <c>host.StopAsync</c>): it then never waits for that reactor's thread to end, which would wait for itself. The
/// loop ends, and its reactor is disposed, when the callback returns.
/// </remarks>
internal sealed class ReactorHostedService : IHostedService
{
    private readonly HostedReactors _reactors;
    private readonly IServiceProvider _services;
    private readonly TcpServerSpec[] _specs;
    private readonly TcpServerRegistry _registry;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _loopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private Task? _stopped;

    public ReactorHostedService(
        HostedReactors reactors,
        IServiceProvider services,
        IEnumerable<TcpServerSpec> specs,
        TcpServerRegistry registry,
        IHostApplicationLifetime? lifetime,
        ILogger logger)
    {
        _reactors = reactors;
        _services = services;
        _specs = specs.ToArray();
        _registry = registry;
        _lifetime = lifetime;
        _logger = logger;
    }

    private string Name => _reactors.Primary.Name;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_thread is not null || _stopped is not null)
            {
                throw new InvalidOperationException("The reactor's hosted service can start only once.");
            }

            if (_reactors.Group is null)
            {
                // A background thread: a host that is never stopped must not keep the process alive by this thread alone.
                _thread = new Thread(RunLoop) { IsBackground = true, Name = _reactors.Primary.Name };
                _thread.Start();
            }
            else
            {
                _thread = Thread.CurrentThread; // the group runs its own threads; this only marks the service started
                _loopEnded.TrySetResult();
            }
        }

        // Binding happens here, on the host's thread, so that a port in use fails the host's start.
        foreach (TcpServerSpec spec in _specs)
        {
            TcpServer server;
            try
            {
                // Bad configuration, inconsistent options, a port in use or a handler the container cannot make
                // throw here.
                HandlerActivation.CheckResolvable(spec.HandlerType, _services);
                (EndPoint endPoint, TcpServerOptions options) = spec.Settings();
                Func<ConnectionHandler> handlers = spec.HandlerFactory(_services);
                server = _reactors.Group is { } group
                    ? new TcpServer(group, endPoint, handlers, options)
                    : new TcpServer(_reactors.Primary, endPoint, handlers, options);
                server.Start();
            }
            catch (Exception e)
            {
                HostingLog.ServerStartFailed(_logger, Name, spec.Description, e);
                StopAsync(new CancellationToken(canceled: true)).GetAwaiter().GetResult();
                throw;
            }

            _registry.Add(server, spec.HandlerType, spec.Name);
        }

        HostingLog.Started(_logger, Name, _specs.Length);
        return Task.CompletedTask;
    }

    /// <summary>Stops once; later calls return the same task. Safe from any thread, a reactor callback included.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stopped ??= StopOnceAsync(_reactors.IsOnReactorThread, cancellationToken);
        }
    }

    private async Task StopOnceAsync(bool fromReactorThread, CancellationToken cancellationToken)
    {
        IReadOnlyList<TcpServer> servers = _registry.Servers;
        int connections = ConnectionCount(servers);
        HostingLog.Stopping(_logger, Name, servers.Count, connections);
        foreach (TcpServer server in servers)
        {
            server.Stop();
        }

        try
        {
            await Task.WhenAll(servers.Select(s => s.Completion)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Expected when the host's shutdown time runs out (or the token came cancelled): disposing the reactors
            // below resets the connections still closing.
            HostingLog.ShutdownCut(_logger, Name, ConnectionCount(servers));
        }

        if (_reactors.Group is { } group)
        {
            if (fromReactorThread)
            {
                // Disposing joins the group's threads, this callback's among them: do it elsewhere, once it returns.
                _ = Task.Run(() => DisposeGroup(group), CancellationToken.None);
            }
            else
            {
                DisposeGroup(group);
            }

            return;
        }

        // Stop wakes the loop, which returns after its current tick and disposes the reactor on its own thread. From
        // a callback of that loop, waiting for it would wait for ourselves: it ends when the callback returns.
        _reactors.Primary.Stop();
        if (!fromReactorThread)
        {
            Thread? thread;
            lock (_gate)
            {
                thread = _thread;
            }

            if (thread is null)
            {
                _reactors.Primary.Dispose(); // never started
            }
            else
            {
                await _loopEnded.Task.ConfigureAwait(false);
                thread.Join();
            }
        }

        HostingLog.Stopped(_logger, Name);
    }

    private static int ConnectionCount(IReadOnlyList<TcpServer> servers)
    {
        int count = 0;
        foreach (TcpServer server in servers)
        {
            count += server.ConnectionCount;
        }

        return count;
    }

    private void DisposeGroup(ReactorGroup group)
    {
        try
        {
            group.Dispose();
            HostingLog.Stopped(_logger, Name);
        }
        catch (AggregateException e)
        {
            // A loop had failed (select kept failing with no socket to blame); the group is disposed all the same.
            HostingLog.GroupFailed(_logger, Name, e);
        }
    }

    private void RunLoop()
    {
        try
        {
            _reactors.Primary.Run();
        }
        catch (Exception e)
        {
            // Run throws only when select keeps failing with no socket to blame (or the reactor was disposed before
            // the loop began). Nothing can catch it above this thread, and an escaped exception would end the process
            // without a graceful stop: log it and ask the host to stop, as it does for a failed background service.
            if (e is not ObjectDisposedException)
            {
                HostingLog.LoopFailed(_logger, Name, e);
                _lifetime?.StopApplication();
            }
        }
        finally
        {
            // The loop is over, whoever ended it: close what is left here, on the loop's own thread, so that a stop
            // asked for from a callback never has to wait for this thread.
            _reactors.Primary.Dispose();
            _loopEnded.TrySetResult();
        }
    }
}
