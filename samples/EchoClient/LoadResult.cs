using System;
using System.Globalization;

namespace EchoClient;

/// <summary>What one run measured, and its RESULT line (the same keys as echoload's, plus threads).</summary>
internal sealed class LoadResult
{
    private LoadResult(ClientOptions options)
    {
        Options = options;
    }

    public ClientOptions Options { get; }

    public long Messages { get; private set; }

    public long Bytes { get; private set; }

    public double DurationSeconds { get; private set; }

    public LatencyHistogram Latency { get; } = new();

    public int Errors { get; private set; }

    public int VerifyErrors { get; private set; }

    public int LostConnections { get; private set; }

    public int StalledConnections { get; private set; }

    public long MinConnectionMessages { get; private set; }

    public long MaxConnectionMessages { get; private set; }

    public double ConnectSeconds { get; private set; }

    public double ClientCpuPercent { get; private set; }

    /// <summary>Every echoed byte was compared and nothing went wrong.</summary>
    public bool Verified => Options.Verify && Errors == 0;

    public double MessagesPerSecond => DurationSeconds > 0 ? Messages / DurationSeconds : 0;

    public double MiBPerSecond => DurationSeconds > 0 ? Bytes / DurationSeconds / 1048576.0 : 0;

    public static LoadResult From(LoadRun run, LoadWorker[] workers)
    {
        var result = new LoadResult(run.Options);
        long min = long.MaxValue, max = 0;
        foreach (LoadWorker worker in workers)
        {
            result.Messages += worker.WindowMessages;
            result.Bytes += worker.WindowBytes;
            result.Latency.Merge(worker.Histogram);
            foreach (LoadConnection connection in worker.Connections)
            {
                min = Math.Min(min, connection.WindowMessages);
                max = Math.Max(max, connection.WindowMessages);
                if (connection.WindowMessages == 0)
                {
                    result.StalledConnections++;
                }
            }
        }

        result.MinConnectionMessages = min == long.MaxValue ? 0 : min;
        result.MaxConnectionMessages = max;
        result.Errors = run.Errors.Count;
        result.VerifyErrors = run.VerifyErrors;
        result.LostConnections = run.LostConnections;
        long connected = run.ConnectedTimestamp;
        result.ConnectSeconds = connected == long.MaxValue ? -1 : LoadRun.TicksToSeconds(connected - run.StartTimestamp);
        if (run.MessagesMode)
        {
            // Every message counts, from the first connect to the last echo.
            long end = run.MeasureEnd;
            result.DurationSeconds = end == long.MaxValue ? 0 : LoadRun.TicksToSeconds(end - run.StartTimestamp);
        }
        else
        {
            result.DurationSeconds = run.Options.Duration.TotalSeconds;
        }

        TimeSpan cpu = run.CpuAtWindowEnd - run.CpuAtWindowStart;
        result.ClientCpuPercent = run.CpuAtWindowStart > TimeSpan.Zero && cpu > TimeSpan.Zero && result.DurationSeconds > 0
            ? 100.0 * cpu.TotalSeconds / result.DurationSeconds
            : 0;
        return result;
    }

    public string ToResultLine()
    {
        var c = CultureInfo.InvariantCulture;
        string mode = Options.Mode == LoadMode.PingPong ? "pingpong" : "stream";
        return string.Create(c, $"RESULT conns={Options.Connections} size={Options.Size} mode={mode} ")
            + string.Create(c, $"msgs_per_s={MessagesPerSecond:0} MiB_per_s={MiBPerSecond:0.00} ")
            + string.Create(c, $"p50_us={Latency.PercentileMicros(0.50):0.0} p90_us={Latency.PercentileMicros(0.90):0.0} ")
            + string.Create(c, $"p99_us={Latency.PercentileMicros(0.99):0.0} p999_us={Latency.PercentileMicros(0.999):0.0} ")
            + string.Create(c, $"max_us={Latency.Max / 1000.0:0.0} mean_us={Latency.MeanMicros:0.0} ")
            + string.Create(c, $"errors={Errors} verified={(Verified ? 1 : 0)} verify_errors={VerifyErrors} ")
            + string.Create(c, $"lost_conns={LostConnections} stalled_conns={StalledConnections} ")
            + string.Create(c, $"min_conn_msgs={MinConnectionMessages} max_conn_msgs={MaxConnectionMessages} msgs={Messages} ")
            + string.Create(c, $"duration_s={DurationSeconds:0.000} connect_s={ConnectSeconds:0.000} client_cpu_pct={ClientCpuPercent:0} ")
            + string.Create(c, $"threads={Options.Threads}");
    }
}
