using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SelectReactor.Hosting;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Hosting;

public sealed class HostingTests
{
    [Fact]
    public void HostOptions_Defaults_AreTheReactorsDefaults()
    {
        var host = new SelectReactorHostOptions();
        var reactor = new ReactorOptions();

        host.MaxSelectTimeout.Should().Be(reactor.MaxSelectTimeout);
        host.MaxColdSocketDelay.Should().Be(reactor.MaxColdSocketDelay);
    }

    [Fact]
    public async Task AddTcpServer_HandlerWithAConstructorDependency_GetsItFromTheContainer()
    {
        using IHost host = TestHost.Build(services => services
            .AddSingleton(new Greeting("hello from the container\n"))
            .AddTcpServer<GreetingHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer<GreetingHandler>().LocalEndPoint!;

        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);
        string greeting = Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client));

        greeting.Should().Be("hello from the container\n");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public async Task StopAsync_WithAnAlreadyCancelledToken_ReturnsPromptlyAndClosesEverything()
    {
        var probe = new ConnectionProbe();
        using IHost host = TestHost.Build(services => services
            .AddSingleton(probe)
            .AddTcpServer<ProbeEchoHandler>(
                new IPEndPoint(IPAddress.Loopback, 0),
                // A graceful close would wait this long for a peer that never ends its stream.
                options => options.Connection.CloseTimeout = TimeSpan.FromMinutes(1)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().Servers.Single().LocalEndPoint!;
        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);
        client.Send("x"u8);
        SocketIo.ReceiveExactly(client, 1);
        Thread reactorThread = await probe.Connected.Task.WaitAsync(Wait.Generous);
        var clock = Stopwatch.StartNew();

        await host.StopAsync(new CancellationToken(canceled: true)).WaitAsync(Wait.Generous);

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "a cancelled stop does not wait for graceful closes");
        (await probe.Closed.Task.WaitAsync(Wait.Generous)).Should().Be(ConnectionCloseReason.ReactorDisposed);
        reactorThread.IsAlive.Should().BeFalse();
        TestHost.TryConnect(endPoint).Should().Be(SocketError.ConnectionRefused);
        ReadUntilClosed(client).Should().BeTrue("the client sees its connection end");
    }

    [Fact]
    public async Task AddSelectReactor_CalledTwice_TheReactorIsOneSingletonRunningPostedWorkOnItsNamedThread()
    {
        using IHost host = TestHost.Build(services => services
            .AddSelectReactor(options => options.Name = "hosted-net")
            .AddSelectReactor()
            .AddTcpServer<TestEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        Reactor reactor = host.Services.GetRequiredService<Reactor>();
        var ran = new TaskCompletionSource<(bool OnReactor, string? Thread)>(TaskCreationOptions.RunContinuationsAsynchronously);

        reactor.Post(() => ran.SetResult((reactor.IsOnReactorThread, Thread.CurrentThread.Name)));

        (await ran.Task.WaitAsync(Wait.Generous)).Should().Be((true, "hosted-net"));
        host.Services.GetRequiredService<Reactor>().Should().BeSameAs(reactor);
        host.Services.GetServices<IHostedService>().Should().ContainSingle("adding it again adds no second loop");
        reactor.Name.Should().Be("hosted-net");
        await host.StopAsync().WaitAsync(Wait.Generous);
        reactor.Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>("the host's stop disposes the reactor");
    }

    [Fact]
    public async Task Options_Invalid_FailTheHostStartListingEveryProblem()
    {
        using IHost host = TestHost.Build(services => services.AddSelectReactor(options =>
        {
            options.Name = " ";
            options.MaxSelectTimeout = TimeSpan.Zero;
            options.MaxColdSocketDelay = TimeSpan.FromMilliseconds(0.5);
        }));

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Failures.Should().HaveCount(3).And.Contain(f => f.Contains("Name")).And.Contain(f => f.Contains("MaxSelectTimeout"))
            .And.Contain(f => f.Contains("MaxColdSocketDelay") && f.Contains("00:00:00.0005"));
    }

    [Fact]
    public async Task Start_SecondEndPointInUse_FailsTheStartAndStopsWhatHadStarted()
    {
        using Socket squatter = Loopback.Listen();
        var logs = new CapturingLoggerProvider();
        using IHost host = TestHost.Build(
            services => services
                .AddTcpServer<TestEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0))
                .AddTcpServer<TestEchoHandler>(squatter.LocalEndPoint!),
            logs);
        Reactor reactor = host.Services.GetRequiredService<Reactor>();

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        (await start.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        TcpServer first = host.Services.GetRequiredService<TcpServerRegistry>().Servers.Should().ContainSingle().Subject;
        TestHost.TryConnect(first.LocalEndPoint!).Should().Be(SocketError.ConnectionRefused, "the server that had started is stopped");
        reactor.Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>();
        logs.Count(305).Should().Be(1);
    }

    [Fact]
    public async Task Start_InconsistentConnectionOptions_FailTheStartAndDisposeTheReactor()
    {
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>(
            new IPEndPoint(IPAddress.Loopback, 0),
            options => options.Connection.SendLowWatermark = options.Connection.SendHighWatermark + 1));
        Reactor reactor = host.Services.GetRequiredService<Reactor>();

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        await start.Should().ThrowAsync<ArgumentException>();
        reactor.Invoking(r => r.Post(() => { })).Should().Throw<ObjectDisposedException>("the reactor thread is not left running");
    }

    [Fact]
    public async Task LoopFailure_IsLoggedAsCriticalAndStopsTheHost()
    {
        var logs = new CapturingLoggerProvider();
        using IHost host = TestHost.Build(services => services.AddSelectReactor(), logs);
        Reactor reactor = host.Services.GetRequiredService<Reactor>();
        // Every select fails, but a probe of the one socket (the wake-up socket) succeeds: no socket to blame.
        reactor.SelectImplementation = (read, write, error, micros) =>
        {
            if (!(micros == 0 && (read?.Count ?? 0) + (write?.Count ?? 0) + (error?.Count ?? 0) == 1))
            {
                throw new SocketException((int)SocketError.InvalidArgument);
            }
        };
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

        await host.StartAsync().WaitAsync(Wait.Generous);

        await stopping.Task.WaitAsync(Wait.Generous);
        logs.Entries.Should().ContainSingle(e => e.EventId == 304).Which.Level.Should().Be(LogLevel.Critical);
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    private static bool ReadUntilClosed(Socket client)
    {
        SocketIo.ReceiveUntilClosed(client);
        return true;
    }

    private sealed record Greeting(string Text);

    private sealed class GreetingHandler(Greeting greeting) : ConnectionHandler
    {
        public override void OnConnected(TcpConnection connection)
        {
            connection.Send(Encoding.ASCII.GetBytes(greeting.Text));
            connection.Close();
        }

        public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
        {
        }
    }
}
