using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using SelectReactor;
using SelectReactor.Net;

namespace EchoClient;

/// <summary>
/// One reactor on its own thread with its share of the connections (every <c>threads</c>-th one). A periodic timer
/// walks it through the phases: connect at a bounded rate, run, drain, close, stop. Everything here runs on the
/// worker's reactor thread except <see cref="Start"/> and <see cref="Join"/>.
/// </summary>
internal sealed class LoadWorker
{
    private static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(3);

    private readonly LoadRun _run;
    private readonly LoadConnection[] _connections;
    private readonly TcpConnectorOptions _connector;
    private readonly double _connectRate;
    private readonly int _maxPending;
    private readonly Thread _thread;
    private Phase _phase;
    private int _next;
    private int _pending;
    private long _connectStart;
    private long _deadline;
    private IDisposable? _tick;

    public LoadWorker(LoadRun run, int id)
    {
        _run = run;
        Id = id;
        ClientOptions options = run.Options;
        int count = (options.Connections - id + options.Threads - 1) / options.Threads;
        _connections = new LoadConnection[count];
        for (int k = 0; k < count; k++)
        {
            int index = id + (k * options.Threads);
            long quota = options.Messages / options.Connections + (index < options.Messages % options.Connections ? 1 : 0);
            _connections[k] = new LoadConnection(this, run, index, quota);
        }

        _connectRate = options.ConnectRate / options.Threads;
        _maxPending = Math.Max(1, options.MaxPending / options.Threads);
        _connector = new TcpConnectorOptions { ConnectTimeout = options.ConnectTimeout, NoDelay = true };
        if (options.Tls)
        {
            // A load tool for test servers with development certificates: any certificate will do, as with echoload --tls.
#pragma warning disable CA5359 // Accepts any server certificate: deliberate in a load generator, documented in --help.
            _connector.Tls = new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = options.Host,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            };
#pragma warning restore CA5359
        }

        Reactor = new Reactor(new ReactorOptions { Name = $"load-{id}" });
        _thread = new Thread(Loop) { Name = $"load-{id}", IsBackground = true };
    }

    private enum Phase
    {
        Connecting,
        Running,
        Draining,
        Closing,
        Done,
    }

    public int Id { get; }

    public Reactor Reactor { get; }

    public LatencyHistogram Histogram { get; } = new();

    public long WindowMessages { get; set; }

    public long WindowBytes { get; set; }

    public ReadOnlySpan<LoadConnection> Connections => _connections;

    public void Start() => _thread.Start();

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    public void OnSettled(bool established)
    {
        _pending--;
        _run.Settled(established);
    }

    private void Loop()
    {
        try
        {
            Reactor.Post(Begin);
            Reactor.Run();
        }
        catch (Exception e) when (e is InvalidOperationException or SocketException or ObjectDisposedException)
        {
            // Expected only when the loop itself fails (select keeps failing): the run reports it as an error.
            _run.Errors.Report(-1, $"worker {Id}: the reactor loop failed: {e.Message}");
        }
    }

    private void Begin()
    {
        _connectStart = Stopwatch.GetTimestamp();
        _tick = Reactor.SchedulePeriodic(TickPeriod, OnTick);
        OnTick();
    }

    private void OnTick()
    {
        long now = Stopwatch.GetTimestamp();
        switch (_phase)
        {
            case Phase.Connecting:
                OpenMore(now);
                if (_run.AllSettled)
                {
                    _phase = Phase.Running;
                    goto case Phase.Running;
                }

                break;

            case Phase.Running:
                if (_run.MessagesMode && now - _run.ConnectedTimestamp >= LoadRun.SecondsToTicks(_run.Options.Duration))
                {
                    _run.EndMeasure(now); // --duration caps a --messages run; Finish reports what was not done
                }

                if (Id == 0 && _run.CpuAtWindowStart == TimeSpan.Zero && now >= _run.MeasureStart)
                {
                    _run.CpuAtWindowStart = Environment.CpuUsage.TotalTime;
                }

                if (now >= _run.MeasureEnd)
                {
                    if (Id == 0)
                    {
                        _run.CpuAtWindowEnd = Environment.CpuUsage.TotalTime;
                    }

                    _phase = Phase.Draining;
                    _deadline = now + LoadRun.SecondsToTicks(_run.Options.Drain);
                    goto case Phase.Draining;
                }

                break;

            case Phase.Draining:
                if (now >= _deadline || AllDrained())
                {
                    foreach (LoadConnection connection in _connections)
                    {
                        connection.Finish();
                    }

                    _phase = Phase.Closing;
                    _deadline = now + LoadRun.SecondsToTicks(CloseGrace);
                    goto case Phase.Closing;
                }

                break;

            case Phase.Closing:
                if (now >= _deadline || AllEnded())
                {
                    _phase = Phase.Done;
                    _tick?.Dispose();
                    Reactor.Stop();
                }

                break;
        }
    }

    /// <summary>Starts connects while fewer than the pending maximum are in progress and the rate allows.</summary>
    private void OpenMore(long now)
    {
        double elapsed = LoadRun.TicksToSeconds(now - _connectStart);
        while (_next < _connections.Length && _pending < _maxPending)
        {
            if (_connectRate > 0 && _next >= (_connectRate * elapsed) + 1)
            {
                break;
            }

            LoadConnection connection = _connections[_next++];
            _pending++;
            try
            {
                connection.Start(_run.EndPoint, _connector);
            }
            catch (SocketException e)
            {
                // Expected when the socket itself cannot be created (out of descriptors): this connection fails.
                connection.GiveUp($"socket: {e.Message}");
                OnSettled(established: false);
            }
        }

        if (_next < _connections.Length && now - _run.StartTimestamp > LoadRun.SecondsToTicks(_run.Options.ConnectTimeout))
        {
            // Connects in progress time out on their own (TcpConnectorOptions.ConnectTimeout); these never started.
            while (_next < _connections.Length)
            {
                _connections[_next++].GiveUp($"connect not started within {_run.Options.ConnectTimeout.TotalSeconds:0}s");
                _run.Settled(established: false);
            }
        }
    }

    private bool AllDrained()
    {
        foreach (LoadConnection connection in _connections)
        {
            if (!connection.Drained)
            {
                return false;
            }
        }

        return true;
    }

    private bool AllEnded()
    {
        foreach (LoadConnection connection in _connections)
        {
            if (!connection.Ended)
            {
                return false;
            }
        }

        return true;
    }
}
