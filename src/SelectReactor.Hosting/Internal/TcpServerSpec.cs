using System;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>One <c>AddTcpServer</c> call: what to listen on and how to make handlers. Started by the hosted service.</summary>
/// <param name="name">The name to find the server by, or null.</param>
/// <param name="handlerType">The connection handler type.</param>
/// <param name="settings">The end point and options, worked out when the host starts (configuration is read then).</param>
/// <param name="handlerFactory">Given the root service provider, the factory the server calls for every accepted connection.</param>
internal sealed class TcpServerSpec(
    string? name,
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type handlerType,
    Func<(EndPoint EndPoint, TcpServerOptions Options)> settings, Func<IServiceProvider, Func<ConnectionHandler>> handlerFactory)
{
    public string? Name { get; } = name;

    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
    public Type HandlerType { get; } = handlerType;

    public Func<(EndPoint EndPoint, TcpServerOptions Options)> Settings { get; } = settings;

    public Func<IServiceProvider, Func<ConnectionHandler>> HandlerFactory { get; } = handlerFactory;

    /// <summary>How logs and errors name it before its end point is known.</summary>
    public string Description => Name is null ? $"the {HandlerType.Name} server" : $"TCP server '{Name}' ({HandlerType.Name})";
}
