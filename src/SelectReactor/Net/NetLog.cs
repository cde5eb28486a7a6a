using System;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SelectReactor.Net;

/// <summary>What the server and UDP endpoints log, source-generated, with fixed event ids (2xx); connections log through <see cref="ConnectionLog"/>.</summary>
internal static partial class NetLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Rejected a connection from {Remote}: {Count} connections is the maximum")]
    public static partial void ConnectionRejected(ILogger logger, string remote, int count);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Accept on {EndPoint} failed with {Error}: out of descriptors or buffers; not accepting for {BackoffMs} ms (doubling up to {MaxBackoffMs} ms) until it recovers")]
    public static partial void AcceptBackoff(ILogger logger, string endPoint, SocketError error, int backoffMs, int maxBackoffMs);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Accepting on {EndPoint} again after running out of descriptors or buffers")]
    public static partial void AcceptRecovered(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Accept on {EndPoint} failed unexpectedly")]
    public static partial void AcceptFailed(ILogger logger, string endPoint, Exception error);

    [LoggerMessage(EventId = 205, Level = LogLevel.Error, Message = "The connection handler factory of {EndPoint} threw; the accepted connection was dropped")]
    public static partial void HandlerFactoryFault(ILogger logger, string endPoint, Exception error);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "Stopped listening on {EndPoint}; connections to close: {Count}")]
    public static partial void StoppedListening(ILogger logger, string endPoint, int count);

    [LoggerMessage(EventId = 230, Level = LogLevel.Error, Message = "UDP endpoint {EndPoint}: the datagram handler threw; the endpoint goes on")]
    public static partial void DatagramHandlerFault(ILogger logger, string endPoint, Exception error);
}
