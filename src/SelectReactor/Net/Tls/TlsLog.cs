using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// What the TLS layer logs (event ids 240-249). Failures are Debug: a peer decides when they happen, so a port
/// scanner, a load balancer's TCP health check or a client with the wrong trust store could otherwise write a line
/// per connection at line rate. They are counted, by close reason, in the connections-closed metric
/// (<c>selectreactor.connections.closed</c>, reason <c>TlsHandshakeFailed</c> or <c>TlsError</c>), which costs nothing
/// and floods nothing. Each method checks the level before describing the connection (CA1873).
/// </summary>
internal static partial class TlsLog
{
    public static void HandshakeFailed(ILogger logger, TcpConnection connection, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.HandshakeFailedCore(connection.Describe(), Reason(error), error);
        }
    }

    public static void HandshakeTimedOut(ILogger logger, TcpConnection connection, TimeSpan timeout)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.HandshakeTimedOutCore(connection.Describe(), timeout);
        }
    }

    public static void StreamFailed(ILogger logger, TcpConnection connection, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.StreamFailedCore(connection.Describe(), Reason(error), error);
        }
    }

    public static void HandshakeDone(ILogger logger, TcpConnection connection, TlsConnectionInfo info)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.HandshakeDoneCore(connection.Describe(), info.ToString(), info.HandshakeDuration.TotalMilliseconds);
        }
    }

    /// <summary>The message of the exception and of its innermost cause (SslStream wraps OpenSSL's reason).</summary>
    private static string Reason(Exception error)
    {
        Exception inner = error;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return ReferenceEquals(inner, error) ? error.Message : $"{error.Message} ({inner.Message})";
    }

    [LoggerMessage(EventId = 240, Level = LogLevel.Debug, Message = "TLS handshake with {Connection} failed: {Reason}")]
    private static partial void HandshakeFailedCore(this ILogger logger, string connection, string reason, Exception error);

    [LoggerMessage(EventId = 241, Level = LogLevel.Debug, Message = "TLS handshake with {Connection} did not complete within {Timeout}; closed")]
    private static partial void HandshakeTimedOutCore(this ILogger logger, string connection, TimeSpan timeout);

    [LoggerMessage(EventId = 242, Level = LogLevel.Debug, Message = "TLS connection {Connection} failed after the handshake: {Reason}")]
    private static partial void StreamFailedCore(this ILogger logger, string connection, string reason, Exception error);

    [LoggerMessage(EventId = 243, Level = LogLevel.Debug, Message = "TLS connection {Connection}: {Negotiated}, handshake {Milliseconds:0.0} ms")]
    private static partial void HandshakeDoneCore(this ILogger logger, string connection, string negotiated, double milliseconds);
}
