using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelectReactor.Hosting;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Hosting;

/// <summary>Stopping the host from inside a reactor callback never hangs; groups of reactors; log order.</summary>
public sealed class HostedStopTests
{
    [Fact]
    public async Task StopApplication_FromAHandler_StopsTheHostGracefully()
    {
        using IHost host = TestHost.Build(services => services.AddTcpServer<StopOnCommandHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().Servers.Single().LocalEndPoint!;
        Task waiting = host.WaitForShutdownAsync();
        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);

        client.Send("stop"u8);

        SocketIo.ReceiveToEnd(client).Should().BeEmpty("the stop closes the connection with FIN");
        client.Shutdown(SocketShutdown.Send);
        await waiting.WaitAsync(Wait.Generous);
        host.Services.GetRequiredService<Reactor>().Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task StopAsync_FromAReactorCallback_WithNothingLeftToClose_Completes()
    {
        // Everything is already closed, so the stop runs to its end on the reactor thread itself: it must not wait for
        // that thread to end.
        using IHost host = TestHost.Build(services => services.AddSelectReactor());
        await host.StartAsync().WaitAsync(Wait.Generous);
        Reactor reactor = host.Services.GetRequiredService<Reactor>();
        var stop = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);

        reactor.Post(() => stop.SetResult(host.StopAsync()));

        Task stopping = await stop.Task.WaitAsync(Wait.Generous);
        await stopping.WaitAsync(Wait.Generous);
        Wait.Until(() => reactor.RefusesWork(), "the loop ends and disposes its reactor once the callback returns");
    }

    [Fact]
    public async Task StopAsync_BlockedOnFromAReactorCallback_IsBoundedByTheShutdownTimeout()
    {
        // The worst case: a handler that waits for the host's stop. The loop cannot close the connections while it
        // waits, so the stop gives up at the host's shutdown timeout, and the handler's wait returns.
        using IHost host = TestHost.Build(services => services
            .Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1))
            .AddTcpServer<TestEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().Servers.Single().LocalEndPoint!;
        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);
        client.Send("x"u8);
        SocketIo.ReceiveExactly(client, 1);
        Reactor reactor = host.Services.GetRequiredService<Reactor>();
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();

        reactor.Post(() =>
        {
            host.StopAsync().Wait(Wait.Generous);
            returned.SetResult();
        });

        await returned.Task.WaitAsync(Wait.Generous);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        Wait.Until(() => reactor.RefusesWork(), "the loop ends once the callback returns");
    }

    [Fact]
    public async Task ReactorCount_Two_ServersSpreadConnectionsOverTheGroup_AndStopGracefully()
    {
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        using IHost host = TestHost.Build(services => services
            .AddSelectReactor(options => options.ReactorCount = 2)
            .AddSingleton(threads)
            .AddTcpServer<ThreadRecordingEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        ReactorGroup group = host.Services.GetRequiredService<ReactorGroup>();
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().Servers.Single().LocalEndPoint!;
        Socket[] clients = Enumerable.Range(0, 4).Select(_ => Loopback.Connect(endPoint, resetOnDispose: true)).ToArray();
        try
        {
            foreach (Socket client in clients)
            {
                client.Send("z"u8);
                SocketIo.ReceiveExactly(client, 1);
            }

            group.Count.Should().Be(2);
            host.Services.GetRequiredService<Reactor>().Should().BeSameAs(group.Reactors[0]);
            threads.Keys.Should().HaveCount(2, "the connections are spread over both reactor threads");
            Task stopping = host.StopAsync();
            foreach (Socket client in clients)
            {
                SocketIo.ReceiveToEnd(client).Should().BeEmpty();
                client.Shutdown(SocketShutdown.Send);
            }

            await stopping.WaitAsync(Wait.Generous);
            group.Reactors.Should().OnlyContain(r => r.RefusesWork());
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }
    }

    [Fact]
    public async Task ReactorGroup_WithOneReactor_IsNotResolvable_AndSaysWhy()
    {
        using IHost host = TestHost.Build(services => services.AddSelectReactor());
        await host.StartAsync().WaitAsync(Wait.Generous);

        Action resolve = () => host.Services.GetRequiredService<ReactorGroup>();

        resolve.Should().Throw<InvalidOperationException>().WithMessage("*ReactorCount above 1*");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public async Task Stop_LogsStoppingBeforeTheServersStopListening()
    {
        var logs = new CapturingLoggerProvider();
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0)), logs);
        await host.StartAsync().WaitAsync(Wait.Generous);

        await host.StopAsync().WaitAsync(Wait.Generous);

        int[] order = logs.Entries.Select(e => e.EventId).Where(id => id is 301 or 206).ToArray();
        order.Should().Equal(301, 206);
        logs.Entries.Single(e => e.EventId == 301).Message.Should().Be("Reactor reactor stopping: the TCP servers stop accepting and close their connections gracefully; servers: 1, connections: 0");
    }
}

/// <summary>Echoes, except "stop", which stops the whole application from the reactor thread.</summary>
internal sealed class StopOnCommandHandler(IHostApplicationLifetime lifetime) : ConnectionHandler
{
    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("stop"u8))
        {
            lifetime.StopApplication();
            return;
        }

        connection.Send(data);
    }
}

/// <summary>Echoes, and records which threads handled connections.</summary>
internal sealed class ThreadRecordingEchoHandler(System.Collections.Concurrent.ConcurrentDictionary<int, bool> threads) : ConnectionHandler
{
    public override void OnConnected(TcpConnection connection) => threads[Environment.CurrentManagedThreadId] = true;

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);
}
