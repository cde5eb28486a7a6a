using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Hosting.Internal;

/// <summary>Every message the hosting integration logs, source-generated, with fixed event ids (3xx).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Reactor {Reactor} started on its own thread with {Servers} TCP servers")]
    public static partial void Started(ILogger logger, string reactor, int servers);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Reactor {Reactor} stopping: {Servers} TCP servers stop accepting and close {Connections} connections")]
    public static partial void Stopping(ILogger logger, string reactor, int servers, int connections);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Reactor {Reactor}: the host's shutdown time ran out with {Connections} connections still closing; they are reset")]
    public static partial void ShutdownCut(ILogger logger, string reactor, int connections);

    [LoggerMessage(EventId = 303, Level = LogLevel.Debug, Message = "Reactor {Reactor} stopped and disposed")]
    public static partial void Stopped(ILogger logger, string reactor);

    [LoggerMessage(EventId = 304, Level = LogLevel.Critical, Message = "Reactor {Reactor}: the loop failed and cannot go on; stopping the host")]
    public static partial void LoopFailed(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 305, Level = LogLevel.Error, Message = "Reactor {Reactor}: starting the TCP server on {EndPoint} failed; stopping what had started")]
    public static partial void ServerStartFailed(ILogger logger, string reactor, string endPoint, Exception error);
}
