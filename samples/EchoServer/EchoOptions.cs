using System;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EchoServer;

/// <summary>The command line of the echo server.</summary>
internal sealed class EchoOptions
{
    public const string Usage = """
        usage: EchoServer [options]
          --host HOST              address to listen on (default 127.0.0.1; :: listens on IPv6 and IPv4)
          --port PORT              TCP port, 0 picks a free one (default 7007)
          --unix PATH              listen on a Unix domain socket instead of TCP
          --max-connections N      connections open at once before new ones are refused (default 10000)
          --idle-timeout SECONDS   close connections idle this long (default: never)
          --high-watermark BYTES   output queued for a client above which the server stops reading from it
                                   (default 65536; reads again at a quarter of it)
          --reactors N|auto        reactor threads to spread connections over (default 1; auto = one per core)
          --udp                    also echo UDP datagrams on the same port
          --tls-cert FILE          serve TLS with this certificate: PEM (key in the same file or --tls-key) or
                                   PKCS#12 (.pfx/.p12, no password)
          --tls-key FILE           the PEM private key of --tls-cert
          --log-level LEVEL        Trace, Debug, Information, Warning, Error, Critical or None (default Information)
          --help                   show this text
        """;

    public string Host { get; private set; } = "127.0.0.1";

    public int Port { get; private set; } = 7007;

    public string? UnixPath { get; private set; }

    public int MaxConnections { get; private set; } = 10_000;

    public TimeSpan? IdleTimeout { get; private set; }

    public long? HighWatermark { get; private set; }

    public int Reactors { get; private set; } = 1;

    public bool Udp { get; private set; }

    public string? TlsCertificate { get; private set; }

    public string? TlsKey { get; private set; }

    public LogLevel LogLevel { get; private set; } = LogLevel.Information;

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; returns null with <paramref name="error"/> set when they are bad.</summary>
    public static EchoOptions? Parse(string[] args, out string? error)
    {
        var options = new EchoOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h")
            {
                options.Help = true;
                continue;
            }

            if (name == "--udp")
            {
                options.Udp = true;
                continue;
            }

            if (!TakesValue(name))
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
            switch (name)
            {
                case "--host":
                    options.Host = value;
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535:
                    options.Port = port;
                    break;
                case "--unix" when value.Length > 0:
                    options.UnixPath = value;
                    break;
                case "--max-connections" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int max) && max > 0:
                    options.MaxConnections = max;
                    break;
                case "--idle-timeout" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds < 1e6:
                    options.IdleTimeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--high-watermark" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long high) && high is >= 1024 and <= 1L << 30:
                    options.HighWatermark = high;
                    break;
                case "--reactors" when value == "auto":
                    options.Reactors = Environment.ProcessorCount;
                    break;
                case "--reactors" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int reactors) && reactors is > 0 and <= 256:
                    options.Reactors = reactors;
                    break;
                case "--log-level" when Enum.TryParse(value, ignoreCase: true, out LogLevel level) && Enum.IsDefined(level) && !int.TryParse(value, out _):
                    options.LogLevel = level;
                    break;
                case "--tls-cert" when value.Length > 0:
                    options.TlsCertificate = value;
                    break;
                case "--tls-key" when value.Length > 0:
                    options.TlsKey = value;
                    break;
                default:
                    error = $"bad value for {name}: {value}";
                    return null;
            }
        }

        if (options.TlsKey is not null && options.TlsCertificate is null)
        {
            error = "--tls-key needs --tls-cert";
            return null;
        }

        return options;
    }

    private static bool TakesValue(string name) =>
        name is "--host" or "--port" or "--unix" or "--max-connections" or "--idle-timeout" or "--high-watermark" or "--reactors" or "--log-level"
            or "--tls-cert" or "--tls-key";
}
