using System;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace ChatServer;

/// <summary>The chat server's settings, from its command line.</summary>
internal sealed class ChatOptions
{
    public const string Usage = """
        usage: ChatServer [options]
          --host ADDRESS           IP address to listen on (default 127.0.0.1; :: listens on IPv6 and IPv4)
          --port PORT              TCP port, 0 picks a free one (default 7010)
          --max-line BYTES         longest line a client may send; a longer one closes that client (default 1024)
          --max-pending BYTES      output a client may leave unread before it is disconnected as too slow
                                   (default 65536, at least 1024)
          --tls-cert FILE          serve TLS with this certificate: PEM (key in the same file or --tls-key) or
                                   PKCS#12 (.pfx/.p12, no password); clients: openssl s_client -connect HOST:PORT
          --tls-key FILE           the PEM private key of --tls-cert
          --log-level LEVEL        Trace, Debug, Information, Warning, Error, Critical or None (default Information)
          --help                   show this text
        """;

    public IPAddress Host { get; set; } = IPAddress.Loopback;

    public int Port { get; set; } = 7010;

    public int MaxLineLength { get; set; } = 1024;

    public int MaxPendingBytes { get; set; } = 64 * 1024;

    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    public string? TlsCertificateFile { get; set; }

    public string? TlsKeyFile { get; set; }

    /// <summary>
    /// The certificate loaded from <see cref="TlsCertificateFile"/> (by the program), or null for plain TCP. An
    /// X509Certificate2, typed <see cref="object"/> so that a plain server never loads the cryptography assemblies.
    /// </summary>
    public object? TlsCertificate { get; set; }

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; returns null with <paramref name="error"/> set when they are bad.</summary>
    public static ChatOptions? Parse(string[] args, out string? error)
    {
        var options = new ChatOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h")
            {
                options.Help = true;
                continue;
            }

            if (name is not ("--host" or "--port" or "--max-line" or "--max-pending" or "--log-level" or "--tls-cert" or "--tls-key"))
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
                case "--host" when IPAddress.TryParse(value, out IPAddress? address):
                    options.Host = address;
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535:
                    options.Port = port;
                    break;
                case "--max-line" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int max) && max is > 0 and <= 1024 * 1024:
                    options.MaxLineLength = max;
                    break;
                case "--max-pending" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int pending) && pending >= 1024:
                    options.MaxPendingBytes = pending;
                    break;
                case "--log-level" when Enum.TryParse(value, ignoreCase: true, out LogLevel level) && Enum.IsDefined(level) && !int.TryParse(value, out _):
                    options.LogLevel = level;
                    break;
                case "--tls-cert" when value.Length > 0:
                    options.TlsCertificateFile = value;
                    break;
                case "--tls-key" when value.Length > 0:
                    options.TlsKeyFile = value;
                    break;
                default:
                    error = $"bad value for {name}: {value}";
                    return null;
            }
        }

        if (options.TlsKeyFile is not null && options.TlsCertificateFile is null)
        {
            error = "--tls-key needs --tls-cert";
            return null;
        }

        return options;
    }
}
