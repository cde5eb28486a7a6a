using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor;

/// <summary>Every message the core logs, source-generated, with fixed event ids (1xx: reactor core).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Reactor {Reactor} loop started")]
    public static partial void LoopStarted(ILogger logger, string reactor);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Reactor {Reactor} loop stopped")]
    public static partial void LoopStopped(ILogger logger, string reactor);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Reactor {Reactor} disposed; closed {Count} registrations and dropped {Dropped} queued actions")]
    public static partial void Disposed(ILogger logger, string reactor, int count, int dropped);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Reactor {Reactor} evicted a dead socket ({Socket}) registered for {Interest}")]
    public static partial void DeadSocketEvicted(ILogger logger, string reactor, string socket, Interest interest, Exception error);

    [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Reactor {Reactor}: Socket.Select failed with no dead socket to blame (attempt {Attempt} of {MaxAttempts}); backing off {BackoffMs} ms")]
    public static partial void SelectFailed(ILogger logger, string reactor, int attempt, int maxAttempts, int backoffMs, Exception error);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Reactor {Reactor}: its wake-up socket died and was recreated")]
    public static partial void WakeupRecreated(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 120, Level = LogLevel.Error, Message = "Reactor {Reactor}: handler {Handler} threw from {Callback} for socket {Socket}; the registration is closed")]
    public static partial void HandlerFault(ILogger logger, string reactor, string handler, string callback, string socket, Exception error);

    [LoggerMessage(EventId = 121, Level = LogLevel.Error, Message = "Reactor {Reactor}: handler {Handler} threw from OnClosed for socket {Socket}")]
    public static partial void ClosedCallbackFault(ILogger logger, string reactor, string handler, string socket, Exception error);

    [LoggerMessage(EventId = 122, Level = LogLevel.Error, Message = "Reactor {Reactor}: a posted action threw")]
    public static partial void PostedActionFault(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "Reactor {Reactor}: a timer callback threw")]
    public static partial void TimerFault(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 130, Level = LogLevel.Trace, Message = "Reactor {Reactor} registered {Socket} for {Interest}")]
    public static partial void Registered(ILogger logger, string reactor, string socket, Interest interest);

    [LoggerMessage(EventId = 131, Level = LogLevel.Debug, Message = "Reactor {Reactor} closed registration {Socket}: {Reason}")]
    public static partial void RegistrationClosed(ILogger logger, string reactor, string socket, CloseReason reason);
}
