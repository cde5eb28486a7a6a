using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>What the parsing handlers log, source-generated, with fixed event ids (260-279).</summary>
internal static partial class FramingLog
{
    [LoggerMessage(EventId = 260, Level = LogLevel.Warning, Message = "Connection {Connection} closed: a frame passed the maximum of {Max} bytes")]
    public static partial void FrameTooLarge(ILogger logger, string connection, int max);

    [LoggerMessage(EventId = 261, Level = LogLevel.Information, Message = "Connection {Connection} closed for a protocol error: {Detail}")]
    public static partial void ProtocolError(ILogger logger, string connection, string detail);

    [LoggerMessage(EventId = 262, Level = LogLevel.Error, Message = "Connection {Connection}: asynchronous work failed after the connection had closed")]
    public static partial void WorkFailedAfterClose(ILogger logger, string connection, Exception error);

    public static void FrameTooLarge(TcpConnection connection, int max)
    {
        ILogger logger = LoggerOf(connection);
        if (logger.IsEnabled(LogLevel.Warning))
        {
            string described = Describe(connection); // only once the level is known to be on
            FrameTooLarge(logger, described, max);
        }
    }

    public static void ProtocolError(TcpConnection connection, string detail)
    {
        ILogger logger = LoggerOf(connection);
        if (logger.IsEnabled(LogLevel.Information))
        {
            string described = Describe(connection); // only once the level is known to be on
            ProtocolError(logger, described, detail);
        }
    }

    public static void WorkFailedAfterClose(TcpConnection connection, Exception error)
    {
        ILogger logger = LoggerOf(connection);
        if (logger.IsEnabled(LogLevel.Error))
        {
            string described = Describe(connection); // only once the level is known to be on
            WorkFailedAfterClose(logger, described, error);
        }
    }

    // Rare paths only: a logger per event is cheaper than a field in every handler.
    private static ILogger LoggerOf(TcpConnection connection) => connection.Reactor.CreateLogger("SelectReactor.Net.Framing");

    private static string Describe(TcpConnection connection)
        => $"{connection.LocalEndPoint?.ToString() ?? "-"} <-> {connection.RemoteEndPoint?.ToString() ?? "-"}";
}
