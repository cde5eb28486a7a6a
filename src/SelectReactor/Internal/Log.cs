using System;
using Microsoft.Extensions.Logging;

namespace SelectReactor;

/// <summary>
/// Every message the core logs, source-generated, with fixed event ids (1xx: reactor core). Messages whose arguments
/// cost something to build (describing a socket reads its end points; naming a handler reads its type) go through a
/// public wrapper that checks <see cref="ILogger.IsEnabled"/> first and builds them only then, as Kestrel's
/// <c>SocketsLog</c> does; the generated methods behind them are private.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Reactor {Reactor} loop started")]
    public static partial void LoopStarted(ILogger logger, string reactor);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Reactor {Reactor} loop stopped")]
    public static partial void LoopStopped(ILogger logger, string reactor);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Reactor {Reactor} disposed; closed {Count} registrations and dropped {Dropped} queued actions")]
    public static partial void Disposed(ILogger logger, string reactor, int count, int dropped);

    [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Reactor {Reactor}: Socket.Select failed with no dead socket to blame (attempt {Attempt} of {MaxAttempts}); backing off {BackoffMs} ms")]
    public static partial void SelectFailed(ILogger logger, string reactor, int attempt, int maxAttempts, int backoffMs, Exception error);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Reactor {Reactor}: its wake-up socket died and was recreated")]
    public static partial void WakeupRecreated(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 122, Level = LogLevel.Error, Message = "Reactor {Reactor}: a posted action threw")]
    public static partial void PostedActionFault(ILogger logger, string reactor, Exception error);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "Reactor {Reactor}: a timer callback threw")]
    public static partial void TimerFault(ILogger logger, string reactor, Exception error);

    // The wrappers below build their arguments into locals inside the IsEnabled check: the analyzer (CA1873) then
    // sees plain locals, and nothing is read from a socket or a type unless the line is written.

    public static void DeadSocketEvicted(ILogger logger, string reactor, Registration registration, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            string socket = SocketDescription.Describe(registration);
            string handler = SocketDescription.HandlerName(registration.Handler);
            DeadSocketEvictedCore(logger, reactor, socket, handler, registration.Interest, error);
        }
    }

    public static void HandlerFault(ILogger logger, string reactor, Registration registration, string callback, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            string handler = SocketDescription.HandlerName(registration.Handler);
            string socket = SocketDescription.Describe(registration);
            HandlerFaultCore(logger, reactor, handler, callback, socket, error);
        }
    }

    public static void ClosedCallbackFault(ILogger logger, string reactor, Registration registration, Exception error)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            string handler = SocketDescription.HandlerName(registration.Handler);
            string socket = SocketDescription.Describe(registration);
            ClosedCallbackFaultCore(logger, reactor, handler, socket, error);
        }
    }

    public static void Registered(ILogger logger, string reactor, Registration registration)
    {
        if (logger.IsEnabled(LogLevel.Trace))
        {
            string socket = SocketDescription.Describe(registration);
            string handler = SocketDescription.HandlerName(registration.Handler);
            RegisteredCore(logger, reactor, socket, registration.Interest, handler);
        }
    }

    public static void RegistrationClosed(ILogger logger, string reactor, Registration registration, CloseReason reason)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            string handler = SocketDescription.HandlerName(registration.Handler);
            string socket = SocketDescription.Describe(registration);
            RegistrationClosedCore(logger, reactor, handler, socket, reason);
        }
    }

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, SkipEnabledCheck = true, Message = "Reactor {Reactor} evicted a dead socket ({Socket}) of {Handler}, registered for {Interest}")]
    private static partial void DeadSocketEvictedCore(ILogger logger, string reactor, string socket, string handler, Interest interest, Exception error);

    [LoggerMessage(EventId = 120, Level = LogLevel.Error, SkipEnabledCheck = true, Message = "Reactor {Reactor}: handler {Handler} threw from {Callback} for socket {Socket}; the registration is closed")]
    private static partial void HandlerFaultCore(ILogger logger, string reactor, string handler, string callback, string socket, Exception error);

    [LoggerMessage(EventId = 121, Level = LogLevel.Error, SkipEnabledCheck = true, Message = "Reactor {Reactor}: handler {Handler} threw from OnClosed for socket {Socket}")]
    private static partial void ClosedCallbackFaultCore(ILogger logger, string reactor, string handler, string socket, Exception error);

    [LoggerMessage(EventId = 130, Level = LogLevel.Trace, SkipEnabledCheck = true, Message = "Reactor {Reactor} registered {Socket} for {Interest}, handled by {Handler}")]
    private static partial void RegisteredCore(ILogger logger, string reactor, string socket, Interest interest, string handler);

    [LoggerMessage(EventId = 131, Level = LogLevel.Debug, SkipEnabledCheck = true, Message = "Reactor {Reactor} closed the registration of {Handler} for {Socket}: {Reason}")]
    private static partial void RegistrationClosedCore(ILogger logger, string reactor, string handler, string socket, CloseReason reason);
}
