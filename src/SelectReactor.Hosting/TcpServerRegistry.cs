using System;
using System.Collections.Generic;
using System.Threading;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>
/// The TCP servers that <c>AddTcpServer</c> added, once the
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
    private (TcpServer Server, Type HandlerType, string? Name)[] _entries = [];
    private TcpServer[] _servers = [];

    internal TcpServerRegistry()
    {
    }

    /// <summary>The started servers, in the order they were added. Empty before the host starts.</summary>
    public IReadOnlyList<TcpServer> Servers => Volatile.Read(ref _servers);

    /// <summary>The one started server whose connections are handled by <typeparamref name="THandler"/>.</summary>
    /// <typeparam name="THandler">The handler type given to <c>AddTcpServer</c>.</typeparam>
    /// <returns>The server.</returns>
    /// <exception cref="InvalidOperationException">No started server uses <typeparamref name="THandler"/> (the host has
    /// not started, or no such server was added), or more than one does (use <see cref="Servers"/>).</exception>
    public TcpServer GetServer<THandler>()
        where THandler : ConnectionHandler
    {
        TcpServer? found = null;
        foreach ((TcpServer server, Type handlerType, _) in Volatile.Read(ref _entries))
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

    /// <summary>The started server added under <paramref name="name"/>.</summary>
    /// <param name="name">The name given to <c>AddTcpServer</c> (case-sensitive).</param>
    /// <returns>The server.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">No started server has that name (the host has not started, or no
    /// server was added under it); the message lists the names there are.</exception>
    public TcpServer GetServer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var names = new List<string>();
        foreach ((TcpServer server, _, string? serverName) in Volatile.Read(ref _entries))
        {
            if (serverName == name)
            {
                return server;
            }

            if (serverName is not null)
            {
                names.Add($"'{serverName}'");
            }
        }

        throw new InvalidOperationException(
            $"No started TCP server is named '{name}' (started names: {(names.Count == 0 ? "none" : string.Join(", ", names))}): was it added with AddTcpServer under that name, and has the host started?");
    }

    /// <summary>Lists a started server. Called by the hosted service on the host's starting thread.</summary>
    internal void Add(TcpServer server, Type handlerType, string? name)
    {
        lock (_gate)
        {
            Volatile.Write(ref _entries, [.. _entries, (server, handlerType, name)]);
            Volatile.Write(ref _servers, [.. _servers, server]);
        }
    }
}
