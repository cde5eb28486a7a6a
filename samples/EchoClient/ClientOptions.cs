using System;
using System.Globalization;

namespace EchoClient;

/// <summary>The command line of the load client. Option names and defaults follow echoload's.</summary>
internal sealed class ClientOptions
{
    public const string Usage = """
        usage: EchoClient [options]
          --host HOST              server address (default 127.0.0.1)
          --port PORT              server port (default 7007)
          --conns N                connections (default 50)
          --size BYTES             message size (default 64)
          --mode pingpong|stream   one message in flight per connection, or a window of them (default pingpong)
          --window BYTES           stream mode: bytes in flight per connection (default 65536)
          --duration SECONDS       measured time (default 5)
          --warmup SECONDS         unmeasured time after every connection is up (default 1)
          --messages N             instead of a timed window: send N messages in all, count every one, then stop
                                   (--warmup is ignored; --duration becomes a cap)
          --verify                 compare every echoed byte with what was sent; any difference is an error
          --threads N              reactors, each on its own thread with its share of the connections (default 1)
          --connect-rate N         new connections per second, 0 for unlimited (default 0)
          --max-pending N          connects in progress at once (default 256)
          --connect-timeout SEC    give up on connecting after this long (default 30)
          --drain SECONDS          after the window, how long to wait for outstanding echoes (default 3)
          --tls                    speak TLS (the server's certificate is not verified: a load tool for test servers)
          --help                   show this text
        Prints one line: RESULT conns=.. size=.. mode=.. msgs_per_s=.. MiB_per_s=.. p50_us=.. p99_us=.. errors=.. verified=..
        Exit status: 0 ok, 1 any error (lost, extra or corrupted bytes, failed connections), 2 bad options.
        """;

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 7007;

    public int Connections { get; set; } = 50;

    public int Size { get; set; } = 64;

    public LoadMode Mode { get; set; } = LoadMode.PingPong;

    public int Window { get; set; } = 65536;

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>0: run for <see cref="Duration"/>; otherwise send exactly this many messages in all.</summary>
    public long Messages { get; set; }

    public bool Verify { get; set; }

    public int Threads { get; set; } = 1;

    /// <summary>New connections per second across all threads; 0 means unlimited.</summary>
    public double ConnectRate { get; set; }

    public int MaxPending { get; set; } = 256;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan Drain { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Speak TLS, without verifying the server's certificate (like echoload --tls).</summary>
    public bool Tls { get; set; }

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; returns null with <paramref name="error"/> set when they are bad.</summary>
    public static ClientOptions? Parse(string[] args, out string? error)
    {
        var o = new ClientOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--help" or "-h":
                    o.Help = true;
                    continue;
                case "--verify":
                    o.Verify = true;
                    continue;
                case "--tls":
                    o.Tls = true;
                    continue;
            }

            if (!ValueOptions.Contains(name))
            {
                error = $"unknown option: {name}";
                return null;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return null;
            }

            string value = args[++i];
            bool ok = name switch
            {
                "--host" => Set(value.Length > 0, () => o.Host = value),
                "--port" => TryInt(value, 1, 65535, v => o.Port = v),
                "--conns" => TryInt(value, 1, 1_000_000, v => o.Connections = v),
                "--size" => TryInt(value, 1, 16 * 1024 * 1024, v => o.Size = v),
                "--window" => TryInt(value, 1, 64 * 1024 * 1024, v => o.Window = v),
                "--threads" => TryInt(value, 1, 256, v => o.Threads = v),
                "--max-pending" => TryInt(value, 1, 1_000_000, v => o.MaxPending = v),
                "--messages" => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long m) && m > 0 && Set(true, () => o.Messages = m),
                "--duration" => TrySeconds(value, false, v => o.Duration = v),
                "--warmup" => TrySeconds(value, true, v => o.Warmup = v),
                "--connect-timeout" => TrySeconds(value, false, v => o.ConnectTimeout = v),
                "--drain" => TrySeconds(value, false, v => o.Drain = v),
                "--connect-rate" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r >= 0 && r < 1e9 && Set(true, () => o.ConnectRate = r),
                "--mode" => value switch
                {
                    "pingpong" => Set(true, () => o.Mode = LoadMode.PingPong),
                    "stream" => Set(true, () => o.Mode = LoadMode.Stream),
                    _ => false,
                },
                _ => false,
            };
            if (!ok)
            {
                error = $"bad value for {name}: {value}";
                return null;
            }
        }

        if (o.Threads > o.Connections)
        {
            o.Threads = o.Connections; // a reactor without connections would only wait
        }

        return o;
    }

    private static readonly string[] ValueOptions =
    [
        "--host", "--port", "--conns", "--size", "--window", "--threads", "--max-pending", "--messages", "--duration",
        "--warmup", "--connect-timeout", "--drain", "--connect-rate", "--mode",
    ];

    private static bool Set(bool ok, Action apply)
    {
        if (ok)
        {
            apply();
        }

        return ok;
    }

    private static bool TryInt(string value, int min, int max, Action<int> apply)
    {
        bool ok = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max;
        return Set(ok, () => apply(v));
    }

    private static bool TrySeconds(string value, bool zeroAllowed, Action<TimeSpan> apply)
    {
        bool ok = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
            && (zeroAllowed ? s >= 0 : s > 0) && s < 1e6;
        return Set(ok, () => apply(TimeSpan.FromSeconds(s)));
    }
}
