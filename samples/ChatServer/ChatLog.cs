using Microsoft.Extensions.Logging;
using SelectReactor.Net;

namespace ChatServer;

/// <summary>The sample's log messages, source-generated, with fixed event ids (1xxx, clear of the library's).</summary>
internal static partial class ChatLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "{Nick} joined from {Remote}; {Count} online")]
    public static partial void Joined(ILogger logger, string nick, string remote, int count);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "{Nick} left ({Reason})")]
    public static partial void Left(ILogger logger, string nick, ConnectionCloseReason reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "{Nick} disconnected: more than {Limit} bytes of output left unread")]
    public static partial void SlowConsumer(ILogger logger, string nick, int limit);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "{Nick} closed: {Why}")]
    public static partial void Kicked(ILogger logger, string nick, string why);
}
