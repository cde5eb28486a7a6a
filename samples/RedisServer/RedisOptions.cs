using System.Globalization;
using Microsoft.Extensions.Logging;

namespace RedisServer;

/// <summary>The command line, with the echo server's conventions.</summary>
internal sealed class RedisOptions
{
    public const string Usage = """
        usage: RedisServer [options]
          --host HOST              address to listen on (default 127.0.0.1; :: listens on IPv6 and IPv4)
          --port PORT              TCP port, 0 picks a free one (default 6379)
          --max-connections N      clients connected at once before new ones are refused (default 10000)
          --log-level LEVEL        Trace, Debug, Information, Warning, Error, Critical or None (default Information)
          --help                   show this text
        """;

    public string Host { get; private set; } = "127.0.0.1";

    public int Port { get; private set; } = 6379;

    public int MaxConnections { get; private set; } = 10_000;

    public LogLevel LogLevel { get; private set; } = LogLevel.Information;

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; returns null with <paramref name="error"/> set when they are bad.</summary>
    public static RedisOptions? Parse(string[] args, out string? error)
    {
        var options = new RedisOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h")
            {
                options.Help = true;
                continue;
            }

            if (name is not ("--host" or "--port" or "--max-connections" or "--log-level"))
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
                case "--max-connections" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int max) && max > 0:
                    options.MaxConnections = max;
                    break;
                case "--log-level" when System.Enum.TryParse(value, ignoreCase: true, out LogLevel level) && System.Enum.IsDefined(level) && !int.TryParse(value, out _):
                    options.LogLevel = level;
                    break;
                default:
                    error = $"bad value for {name}: {value}";
                    return null;
            }
        }

        return options;
    }
}
