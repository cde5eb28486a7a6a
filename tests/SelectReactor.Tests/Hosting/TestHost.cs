using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;

namespace SelectReactor.Tests.Hosting;

/// <summary>A real generic host with nothing in it but what a test adds (no configuration files, no console logging).</summary>
internal static class TestHost
{
    public static IHost Build(Action<IServiceCollection> configure, ILoggerProvider? logs = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(settings: null);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        }

        configure(builder.Services);
        return builder.Build();
    }

    /// <summary>Configuration from in-memory settings, as a host would read them from appsettings.json.</summary>
    public static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    /// <summary>The socket error of a connect to <paramref name="endPoint"/>, or Success when something accepted it.</summary>
    public static SocketError TryConnect(EndPoint endPoint)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(endPoint);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }
}

/// <summary>What the handlers the container makes saw, for the test to await.</summary>
internal sealed class ConnectionProbe
{
    public TaskCompletionSource<Thread> Connected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<ConnectionCloseReason> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Echoes, and tells its probe (a singleton from the container) on which thread it runs and how it ended.</summary>
internal sealed class ProbeEchoHandler(ConnectionProbe probe) : ConnectionHandler
{
    public override void OnConnected(TcpConnection connection) => probe.Connected.TrySetResult(Thread.CurrentThread);

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error) => probe.Closed.TrySetResult(reason);
}
