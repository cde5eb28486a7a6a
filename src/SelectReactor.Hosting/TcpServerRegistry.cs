using System;
using System.Collections.Generic;
using System.Threading;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>
/// The TCP servers that <see cref="SelectReactorServiceCollectionExtensions.AddTcpServer{THandler}"/> added, once the
/// host has started them: inject it (or resolve it from the host's services) to read a server's
/// <see cref="TcpServer.LocalEndPoint"/>, the real port when port 0 was asked for, or its counters.
/// </summary>
/// <remarks>
/// Empty until the host starts; filled by the reactor's hosted service before the host's start completes, in the
/// order the servers were added. Stopped servers stay listed. Every member is safe from any thread.
/// </remarks>
public sealed class TcpServerRegistry
{
    private readonly Lock _gate = new();
    private (TcpServer Server, Type HandlerType)[] _entries = [];
    private TcpServer[] _servers = [];

    internal TcpServerRegistry()
    {
    }

    /// <summary>The started servers, in the order they were added. Empty before the host starts.</summary>
    public IReadOnlyList<TcpServer> Servers => Volatile.Read(ref _servers);

    /// <summary>The one started server whose connections are handled by <typeparamref name="THandler"/>.</summary>
    /// <typeparam name="THandler">The handler type given to <see cref="SelectReactorServiceCollectionExtensions.AddTcpServer{THandler}"/>.</typeparam>
    /// <returns>The server.</returns>
    /// <exception cref="InvalidOperationException">No started server uses <typeparamref name="THandler"/> (the host has
    /// not started, or no such server was added), or more than one does (use <see cref="Servers"/>).</exception>
    public TcpServer GetServer<THandler>()
        where THandler : ConnectionHandler
    {
        TcpServer? found = null;
        foreach ((TcpServer server, Type handlerType) in Volatile.Read(ref _entries))
        {
            if (handlerType != typeof(THandler))
            {
                continue;
            }

            if (found is not null)
            {
                throw new InvalidOperationException($"More than one TCP server uses {typeof(THandler).Name}; pick one from TcpServerRegistry.Servers.");
            }

            found = server;
        }

        return found ?? throw new InvalidOperationException(
            $"No started TCP server uses {typeof(THandler).Name}: was it added with AddTcpServer, and has the host started?");
    }

    /// <summary>Lists a started server. Called by the hosted service on the host's starting thread.</summary>
    internal void Add(TcpServer server, Type handlerType)
    {
        lock (_gate)
        {
            Volatile.Write(ref _entries, [.. _entries, (server, handlerType)]);
            Volatile.Write(ref _servers, [.. _servers, server]);
        }
    }
}
