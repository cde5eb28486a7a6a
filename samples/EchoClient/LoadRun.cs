using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace EchoClient;

/// <summary>
/// One load run: the options, the state every worker shares (the measured window, settled connections, errors), and
/// <see cref="Execute"/>, which starts the workers, waits for them within a bound and merges what they measured.
/// </summary>
internal sealed class LoadRun
{
    private readonly double _nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private long _measureStart = long.MaxValue;
    private long _measureEnd = long.MaxValue;
    private long _connected = long.MaxValue;
    private int _settled;
    private int _established;
    private int _sending;
    private int _verifyErrors;
    private int _lost;

    private LoadRun(ClientOptions options, IPEndPoint endPoint, TextWriter errorOutput)
    {
        Options = options;
        EndPoint = endPoint;
        Errors = new ErrorReport(errorOutput);
        Pattern = EchoClient.Pattern.Create(options.Size);
        _sending = options.Connections;
    }

    public ClientOptions Options { get; }

    public IPEndPoint EndPoint { get; }

    public byte[] Pattern { get; }

    public ErrorReport Errors { get; }

    /// <summary>--messages: every message counts, and the run ends when the last one is echoed.</summary>
    public bool MessagesMode => Options.Messages > 0;

    public long StartTimestamp { get; private set; }

    /// <summary>When the last connection was established or failed; <see cref="long.MaxValue"/> until then.</summary>
    public long ConnectedTimestamp => Volatile.Read(ref _connected);

    public bool AllSettled => Volatile.Read(ref _settled) == Options.Connections;

    /// <summary>Start of the measured window (a <see cref="Stopwatch"/> timestamp); <see cref="long.MaxValue"/> until known.</summary>
    public long MeasureStart => Volatile.Read(ref _measureStart);

    /// <summary>End of the measured window; from then on no new message is started.</summary>
    public long MeasureEnd => Volatile.Read(ref _measureEnd);

    public TimeSpan CpuAtWindowStart { get; set; }

    public TimeSpan CpuAtWindowEnd { get; set; }

    /// <summary>Runs the load described by <paramref name="options"/> and returns what was measured.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="errorOutput">Where the first errors are printed.</param>
    /// <param name="cancellationToken">Stops the workers early (the run then reports what it saw).</param>
    public static LoadResult Execute(ClientOptions options, TextWriter errorOutput, CancellationToken cancellationToken = default)
    {
        var run = new LoadRun(options, Resolve(options.Host, options.Port), errorOutput);
        var workers = Enumerable.Range(0, options.Threads).Select(w => new LoadWorker(run, w)).ToArray();
        run.StartTimestamp = Stopwatch.GetTimestamp();
        if (run.MessagesMode)
        {
            Volatile.Write(ref run._measureStart, run.StartTimestamp);
        }

        try
        {
            foreach (LoadWorker worker in workers)
            {
                worker.Start();
            }

            // Every phase is bounded, so the whole run is too; past this something is stuck, and it is an error.
            TimeSpan bound = options.ConnectTimeout + options.Warmup + options.Duration + options.Drain + TimeSpan.FromSeconds(15);
            var clock = Stopwatch.StartNew();
            using (cancellationToken.Register(() => Array.ForEach(workers, w => w.Reactor.Stop())))
            {
                foreach (LoadWorker worker in workers)
                {
                    TimeSpan left = bound - clock.Elapsed;
                    if (!worker.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                    {
                        run.Errors.Report(-1, $"worker {worker.Id} did not finish within {bound.TotalSeconds:0}s; stopping it");
                        worker.Reactor.Stop();
                        worker.Join(TimeSpan.FromSeconds(5));
                    }
                }
            }
        }
        finally
        {
            foreach (LoadWorker worker in workers)
            {
                worker.Reactor.Dispose();
            }
        }

        return LoadResult.From(run, workers);
    }

    public long TicksToNanoseconds(long ticks) => (long)(ticks * _nanosecondsPerTick);

    public static double TicksToSeconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    public static long SecondsToTicks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);

    public int VerifyErrors => Volatile.Read(ref _verifyErrors);

    public int LostConnections => Volatile.Read(ref _lost);

    public void CountVerifyError() => Interlocked.Increment(ref _verifyErrors);

    public void CountLost() => Interlocked.Increment(ref _lost);

    /// <summary>A connection was established or failed. The last one to settle starts the warm-up.</summary>
    public void Settled(bool established)
    {
        if (established)
        {
            Interlocked.Increment(ref _established);
        }

        if (Interlocked.Increment(ref _settled) != Options.Connections)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _connected, now);
        if (Volatile.Read(ref _established) == 0)
        {
            Errors.Report(-1, "no connection could be established");
            EndMeasure(now);
            return;
        }

        if (!MessagesMode)
        {
            long start = now + SecondsToTicks(Options.Warmup);
            Volatile.Write(ref _measureEnd, start + SecondsToTicks(Options.Duration));
            Volatile.Write(ref _measureStart, start);
        }
    }

    /// <summary>--messages: one more connection has sent (and had echoed) all it will; the last one ends the run.</summary>
    public void QuotaReached()
    {
        if (Interlocked.Decrement(ref _sending) == 0)
        {
            EndMeasure(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Ends the window now, unless an end is already set.</summary>
    public void EndMeasure(long now) => Interlocked.CompareExchange(ref _measureEnd, now, long.MaxValue);

    private static IPEndPoint Resolve(string host, int port)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress first = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(first, port);
    }
}
