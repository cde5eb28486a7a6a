using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Hosting;

/// <summary>Every message the hosting integration logs, source-generated, with fixed event ids (3xx).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Reactor {Reactor} started; TCP servers: {Servers}")]
    public static partial void Started(ILogger logger, string reactor, int servers);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Reactor {Reactor} stopping: the TCP servers stop accepting and close their connections gracefully; servers: {Servers}, connections: {Connections}")]
    public static partial void Stopping(ILogger logger, string reactor, int servers, int connections);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Reactor {Reactor}: the host's shutdown time ran out before every connection had closed; the rest are reset: {Connections}")]
    public static partial void ShutdownCut(ILogger logger, string reactor, int connections);

    [LoggerMessage(EventId = 303, Level = LogLevel.Debug, Message = "Reactor {Reactor} stopped and disposed")]
    public static partial void Stopped(ILogger logger, string reactor);

    [LoggerMessage(EventId = 304, Level = LogLevel.Critical, Message = "Reactor {Reactor}: the loop failed and cannot go on; stopping the host")]
    public static partial void LoopFailed(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 305, Level = LogLevel.Error, Message = "Reactor {Reactor}: starting {Server} failed; stopping what had started")]
    public static partial void ServerStartFailed(ILogger logger, string reactor, string server, Exception error);

    [LoggerMessage(EventId = 306, Level = LogLevel.Critical, Message = "Reactor {Reactor}: a reactor of the group had failed; the group is disposed")]
    public static partial void GroupFailed(ILogger logger, string reactor, Exception error);
}
