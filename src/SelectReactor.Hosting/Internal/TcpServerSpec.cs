using System;
using System.Net;
using SelectReactor.Net;

namespace SelectReactor.Hosting.Internal;

/// <summary>One <c>AddTcpServer</c> call: what to listen on and how to make handlers. Started by the hosted service.</summary>
internal sealed class TcpServerSpec(EndPoint endPoint, Type handlerType, TcpServerOptions options, Func<IServiceProvider, Func<ConnectionHandler>> handlerFactory)
{
    public EndPoint EndPoint { get; } = endPoint;

    public Type HandlerType { get; } = handlerType;

    public TcpServerOptions Options { get; } = options;

    /// <summary>Given the root service provider, returns the factory the server calls for every accepted connection.</summary>
    public Func<IServiceProvider, Func<ConnectionHandler>> HandlerFactory { get; } = handlerFactory;
}
