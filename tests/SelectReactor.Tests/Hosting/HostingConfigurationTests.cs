using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelectReactor.Hosting;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Hosting;

/// <summary>Host and server settings from configuration, servers found by name, and handler constructors explained.</summary>
public sealed class HostingConfigurationTests
{
    [Fact]
    public async Task Configuration_SetsTheHostAndTheServer_AndTheServerIsFoundByName()
    {
        IConfiguration configuration = TestHost.Configuration(new()
        {
            ["SelectReactor:Name"] = "configured",
            ["SelectReactor:MaxSelectTimeout"] = "00:00:00.5",
            ["SelectReactor:MaxColdSocketDelay"] = "00:00:00",
            ["SelectReactor:Servers:echo:EndPoint"] = "127.0.0.1:0",
            ["SelectReactor:Servers:echo:MaxConnections"] = "1",
            ["SelectReactor:Servers:echo:Connection:IdleTimeout"] = "00:00:00.3",
        });
        using IHost host = TestHost.Build(services => services
            .AddSelectReactor(configuration.GetSection("SelectReactor"))
            .AddTcpServer<TestEchoHandler>("echo", configuration.GetSection("SelectReactor:Servers:echo")));

        await host.StartAsync().WaitAsync(Wait.Generous);

        TcpServer server = host.Services.GetRequiredService<TcpServerRegistry>().GetServer("echo");
        host.Services.GetRequiredService<Reactor>().Name.Should().Be("configured");
        host.Services.GetRequiredService<Reactor>().TieringEnabled.Should().BeFalse("MaxColdSocketDelay zero came from configuration");
        using Socket first = Loopback.Connect(server.LocalEndPoint!, resetOnDispose: true);
        SocketIo.ReceiveToEnd(first).Should().BeEmpty("the configured idle timeout closes a silent connection");
        first.Shutdown(SocketShutdown.Send);
        Wait.Until(() => server.ConnectionCount == 0, "the idle connection has closed");
        using Socket second = Loopback.Connect(server.LocalEndPoint!, resetOnDispose: true);
        second.Send("a"u8);
        SocketIo.ReceiveExactly(second, 1);
        using Socket third = Loopback.Connect(server.LocalEndPoint!, resetOnDispose: true);
        Wait.Until(() => server.RejectedCount == 1, "the configured MaxConnections of 1 refuses the third");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public async Task Configuration_ConnectionSection_SetsEveryConnectionOption()
    {
        IConfiguration configuration = TestHost.Configuration(new()
        {
            ["EndPoint"] = "127.0.0.1:0",
            ["Connection:ReceiveBufferSize"] = "8192",
            ["Connection:MaxReadsPerReadiness"] = "2",
            ["Connection:SendHighWatermark"] = "32768",
            ["Connection:SendLowWatermark"] = "8192",
            ["Connection:MaxPendingSendBytes"] = "1048576",
            ["Connection:IdleTimeout"] = "00:01:00",
            ["Connection:CloseTimeout"] = "00:00:02",
            ["Connection:CloseFlushTimeout"] = "00:00:20",
        });
        TcpServerOptions? seen = null;
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>("echo", configuration, options => seen = options));

        await host.StartAsync().WaitAsync(Wait.Generous);

        seen!.Connection.Should().BeEquivalentTo(new
        {
            ReceiveBufferSize = 8192,
            MaxReadsPerReadiness = 2,
            SendHighWatermark = 32768L,
            SendLowWatermark = 8192L,
            MaxPendingSendBytes = 1048576L,
            IdleTimeout = TimeSpan.FromMinutes(1),
            CloseTimeout = TimeSpan.FromSeconds(2),
            CloseFlushTimeout = TimeSpan.FromSeconds(20),
        });
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Theory]
    [InlineData("MaxConnection", "10", "Configuration SelectReactor:Servers:echo:MaxConnection is not a setting; the settings here are: EndPoint, Backlog, MaxConnections*")]
    [InlineData("MaxConnections", "lots", "Configuration SelectReactor:Servers:echo:MaxConnections = 'lots': not a whole number.")]
    [InlineData("MaxConnections", "0", "Configuration SelectReactor:Servers:echo:MaxConnections = '0': *")]
    [InlineData("Connection:CloseTimeout", "5", "*CloseTimeout = '5'*")]
    [InlineData("EndPoint", "localhost:7000", "Configuration SelectReactor:Servers:echo:EndPoint = 'localhost:7000' is not an end point*")]
    public async Task Configuration_Bad_FailsTheStartNamingTheKeyAndTheValue(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?> { ["SelectReactor:Servers:echo:EndPoint"] = "127.0.0.1:0" };
        settings["SelectReactor:Servers:echo:" + key] = value;
        IConfiguration configuration = TestHost.Configuration(settings);
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>("echo", configuration.GetSection("SelectReactor:Servers:echo")));

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage(message);
    }

    [Fact]
    public async Task Configuration_HostReactorCount_RunsAGroup()
    {
        IConfiguration configuration = TestHost.Configuration(new() { ["ReactorCount"] = "2" });
        using IHost host = TestHost.Build(services => services.AddSelectReactor(configuration));

        await host.StartAsync().WaitAsync(Wait.Generous);

        host.Services.GetRequiredService<ReactorGroup>().Count.Should().Be(2);
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public void Names_MustBeUnique_AndAnUnknownNameListsTheKnownOnes()
    {
        var services = new ServiceCollection();
        services.AddTcpServer<TestEchoHandler>("a", new IPEndPoint(IPAddress.Loopback, 0));

        Action again = () => services.AddTcpServer<TestEchoHandler>("a", new IPEndPoint(IPAddress.Loopback, 0));

        again.Should().Throw<ArgumentException>().WithMessage("A TCP server named 'a' was already added*");
    }

    [Fact]
    public async Task GetServer_UnknownName_ListsTheNamesThereAre()
    {
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>("a", new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);

        Action find = () => host.Services.GetRequiredService<TcpServerRegistry>().GetServer("b");

        find.Should().Throw<InvalidOperationException>().WithMessage("No started TCP server is named 'b' (started names: 'a')*");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public void Handler_WithTwoConstructors_IsRefusedAtOnce_NamingItAndWhatToDo()
    {
        var services = new ServiceCollection();

        Action add = () => services.AddTcpServer<TwoConstructorsHandler>(new IPEndPoint(IPAddress.Loopback, 0));

        add.Should().Throw<ArgumentException>().WithMessage(
            "The connection handler TwoConstructorsHandler has 2 public constructors and the container cannot choose between them (*); (String)*[ActivatorUtilitiesConstructor]*");
    }

    [Fact]
    public async Task Handler_WithTwoConstructorsOneMarked_IsMadeWithTheMarkedOne()
    {
        using IHost host = TestHost.Build(services => services
            .AddSingleton(new Marker())
            .AddTcpServer<MarkedConstructorHandler>(new IPEndPoint(IPAddress.Loopback, 0)));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer<MarkedConstructorHandler>().LocalEndPoint!;

        using Socket client = Loopback.Connect(endPoint, resetOnDispose: true);

        System.Text.Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client)).Should().Be("marked");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Fact]
    public async Task Handler_NeedingAnUnregisteredService_FailsTheStartNamingBoth()
    {
        using IHost host = TestHost.Build(services => services.AddTcpServer<MarkedConstructorHandler>(new IPEndPoint(IPAddress.Loopback, 0)));

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("The connection handler MarkedConstructorHandler cannot be made: its constructor needs a Marker ('marker'), which is not registered*");
    }
}

internal sealed class Marker;

internal sealed class TwoConstructorsHandler : ConnectionHandler
{
    public TwoConstructorsHandler()
    {
    }

    public TwoConstructorsHandler(string greeting) => _ = greeting;

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
    }
}

internal sealed class MarkedConstructorHandler : ConnectionHandler
{
    private readonly string _text;

    public MarkedConstructorHandler() => _text = "unmarked";

    [Microsoft.Extensions.DependencyInjection.ActivatorUtilitiesConstructor]
    public MarkedConstructorHandler(Marker marker)
    {
        _ = marker;
        _text = "marked";
    }

    public override void OnConnected(TcpConnection connection)
    {
        connection.Send(System.Text.Encoding.ASCII.GetBytes(_text));
        connection.Close();
    }

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
    }
}
