using System;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>
/// What a <see cref="TcpConnection"/> logs (event ids 210-215, 220 and 231-239). Each public method checks the level
/// first and only then describes the connection (its end points, formatted), so a disabled level costs one call.
/// The generated methods are extensions called on the logger the guard checked, which is how CA1873 sees the guard.
/// </summary>
internal static partial class ConnectionLog
{
    public static void ConnectionReset(ILogger logger, TcpConnection connection, SocketError error)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.ConnectionResetCore(connection.Describe(), error);
        }
    }

    public static void SocketError(ILogger logger, TcpConnection connection, SocketError error, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            logger.SocketErrorCore(connection.Describe(), error, exception);
        }
    }

    public static void HandlerFault(ILogger logger, TcpConnection connection, string callback, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            logger.HandlerFaultCore(connection.Describe(), callback, error);
        }
    }

    public static void SendBufferOverflow(ILogger logger, TcpConnection connection, long pending, long adding, long cap)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            logger.SendBufferOverflowCore(connection.Describe(), pending, adding, cap);
        }
    }

    public static void IdleTimeout(ILogger logger, TcpConnection connection, TimeSpan idleFor)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.IdleTimeoutCore(connection.Describe(), idleFor);
        }
    }

    public static void PeerDidNotClose(ILogger logger, TcpConnection connection, TimeSpan waited)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.PeerDidNotCloseCore(connection.Describe(), waited);
        }
    }

    public static void ConnectFailed(ILogger logger, EndPoint endPoint, ConnectionCloseReason reason, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.ConnectFailedCore(endPoint.ToString() ?? "?", reason, error.Message);
        }
    }

    public static void CloseFlushStalled(ILogger logger, TcpConnection connection, long pending, TimeSpan stalled)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            logger.CloseFlushStalledCore(connection.Describe(), pending, stalled);
        }
    }

    public static void UnsentDropped(ILogger logger, TcpConnection connection, long pending, ConnectionCloseReason reason)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            logger.UnsentDroppedCore(connection.Describe(), pending, reason);
        }
    }

    public static void LayerFault(ILogger logger, TcpConnection connection, string layer, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            logger.LayerFaultCore(connection.Describe(), layer, error);
        }
    }

    public static void BudgetExceeded(ILogger logger, TcpConnection connection, long pending, long total, long budget)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            logger.BudgetExceededCore(connection.Describe(), pending, total, budget);
        }
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Debug, Message = "Connection {Connection} reset by peer ({Error})")]
    private static partial void ConnectionResetCore(this ILogger logger, string connection, SocketError error);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "Connection {Connection} failed with socket error {Error}")]
    private static partial void SocketErrorCore(this ILogger logger, string connection, SocketError error, Exception exception);

    [LoggerMessage(EventId = 212, Level = LogLevel.Error, Message = "Connection {Connection}: the handler threw from {Callback}; the connection is closed")]
    private static partial void HandlerFaultCore(this ILogger logger, string connection, string callback, Exception error);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "Connection {Connection} aborted: {Pending} bytes pending plus {Adding} more would pass the cap of {Cap}; the peer is not reading")]
    private static partial void SendBufferOverflowCore(this ILogger logger, string connection, long pending, long adding, long cap);

    [LoggerMessage(EventId = 214, Level = LogLevel.Debug, Message = "Connection {Connection} idle for {IdleFor}; closing")]
    private static partial void IdleTimeoutCore(this ILogger logger, string connection, TimeSpan idleFor);

    [LoggerMessage(EventId = 215, Level = LogLevel.Debug, Message = "Connection {Connection} sent everything and its FIN, but the peer did not end its stream within {Waited}; closed")]
    private static partial void PeerDidNotCloseCore(this ILogger logger, string connection, TimeSpan waited);

    [LoggerMessage(EventId = 220, Level = LogLevel.Debug, Message = "Connect to {EndPoint} failed ({Reason}): {Error}")]
    private static partial void ConnectFailedCore(this ILogger logger, string endPoint, ConnectionCloseReason reason, string error);

    [LoggerMessage(EventId = 231, Level = LogLevel.Warning, Message = "Connection {Connection} dropped {Pending} unsent bytes: closing, and the peer took none of them for {Stalled}; reset")]
    private static partial void CloseFlushStalledCore(this ILogger logger, string connection, long pending, TimeSpan stalled);

    [LoggerMessage(EventId = 232, Level = LogLevel.Warning, Message = "Connection {Connection} dropped {Pending} unsent bytes as it ended ({Reason})")]
    private static partial void UnsentDroppedCore(this ILogger logger, string connection, long pending, ConnectionCloseReason reason);

    [LoggerMessage(EventId = 233, Level = LogLevel.Error, Message = "Connection {Connection}: its {Layer} layer threw; the connection is closed")]
    private static partial void LayerFaultCore(this ILogger logger, string connection, string layer, Exception error);

    [LoggerMessage(EventId = 234, Level = LogLevel.Warning, Message = "Connection {Connection} aborted with {Pending} bytes pending: the server's connections held {Total} bytes of unsent output, over its budget of {Budget}, and this one held the most")]
    private static partial void BudgetExceededCore(this ILogger logger, string connection, long pending, long total, long budget);
}
