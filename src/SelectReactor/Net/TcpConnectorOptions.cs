using System;

namespace SelectReactor.Net;

/// <summary>Settings for <see cref="TcpConnector.Connect"/>.</summary>
public sealed class TcpConnectorOptions
{
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(10);
    private TcpConnectionOptions _connection = new();

    /// <summary>How long name resolution plus the connect (over every resolved address) may take. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _connectTimeout = value;
        }
    }

    /// <summary>Disables Nagle's algorithm on TCP sockets (not on Unix domain sockets). Default <see langword="true"/>.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>The established connection's limits.</summary>
    public TcpConnectionOptions Connection
    {
        get => _connection;
        set => _connection = value ?? throw new ArgumentNullException(nameof(value));
    }
}
