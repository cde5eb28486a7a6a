using System;
using System.Net;
using System.Net.Sockets;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net;

/// <summary>Errors that explain themselves: the values involved, the defaults, the end point.</summary>
public sealed class OptionErrorTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void AcceptBackoffs_NotPositive_AreRefusedWhenSet(int milliseconds)
    {
        var options = new TcpServerOptions();
        TimeSpan value = TimeSpan.FromMilliseconds(milliseconds);

        Action initial = () => options.InitialAcceptBackoff = value;
        Action max = () => options.MaxAcceptBackoff = value;

        initial.Should().Throw<ArgumentOutOfRangeException>().WithMessage("InitialAcceptBackoff must be positive*it was*default is 50 ms*");
        max.Should().Throw<ArgumentOutOfRangeException>().WithMessage("MaxAcceptBackoff must be positive*default is 1000 ms*");
        options.InitialAcceptBackoff.Should().Be(TimeSpan.FromMilliseconds(50), "a refused value changes nothing");
    }

    [Fact]
    public void Timeouts_NotPositive_SayTheValueAndTheDefault()
    {
        var connection = new TcpConnectionOptions();
        var server = new TcpServerOptions();
        var connector = new TcpConnectorOptions();

        Action idle = () => connection.IdleTimeout = TimeSpan.Zero;
        Action flush = () => connection.CloseFlushTimeout = TimeSpan.FromSeconds(-2);
        Action serverHandshake = () => server.TlsHandshakeTimeout = TimeSpan.Zero;
        Action connectorHandshake = () => connector.TlsHandshakeTimeout = TimeSpan.Zero;

        idle.Should().Throw<ArgumentOutOfRangeException>().WithMessage("IdleTimeout must be positive*it was 00:00:00*default is Timeout.InfiniteTimeSpan*");
        flush.Should().Throw<ArgumentOutOfRangeException>().WithMessage("CloseFlushTimeout must be positive*it was -00:00:02*default is 60 s*");
        serverHandshake.Should().Throw<ArgumentOutOfRangeException>().WithMessage("TlsHandshakeTimeout must be positive*default is 10 s*");
        connectorHandshake.Should().Throw<ArgumentOutOfRangeException>().WithMessage("TlsHandshakeTimeout must be positive*default is 10 s*");
    }

    [Fact]
    public void AcceptBackoffs_InitialAboveMax_TheServerSaysBothValues()
    {
        var options = new TcpServerOptions { InitialAcceptBackoff = TimeSpan.FromSeconds(2) };
        using var reactor = new Reactor();

        Action create = () => new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), options).Dispose();

        create.Should().Throw<ArgumentException>().WithMessage("*InitialAcceptBackoff (2000 ms) must not exceed MaxAcceptBackoff (1000 ms)*defaults are 50 ms and 1000 ms*");
    }

    [Fact]
    public void HighWatermark_AtTheDefault_AboveALoweredCap_TheErrorNamesBothValuesAndWhichIsTheDefault()
    {
        var options = new TcpServerOptions();
        options.Connection.MaxPendingSendBytes = 32 * 1024;
        using var reactor = new Reactor();

        Action create = () => new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), options).Dispose();

        create.Should().Throw<ArgumentException>().WithMessage(
            "TcpConnectionOptions.SendHighWatermark (65,536 bytes, the default) must be below MaxPendingSendBytes (32,768 bytes; default 4,194,304)*raise MaxPendingSendBytes*");
    }

    [Fact]
    public void LowWatermark_AboveHigh_TheErrorNamesBothValues()
    {
        var options = new TcpServerOptions();
        options.Connection.SendLowWatermark = 300 * 1024;
        using var reactor = new Reactor();

        Action create = () => new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), options).Dispose();

        create.Should().Throw<ArgumentException>().WithMessage("*SendLowWatermark (307,200 bytes; default 16,384) must not exceed SendHighWatermark (65,536 bytes, the default)*");
    }

    [Fact]
    public void Start_EndPointInUse_TheErrorNamesTheEndPointAndKeepsTheErrorCode()
    {
        using Socket squatter = Loopback.Listen();
        var logs = new CapturingLoggerProvider();
        using var reactor = new Reactor(new ReactorOptions { LoggerFactory = logs });
        var server = new TcpServer(reactor, squatter.LocalEndPoint!, () => new TestEchoHandler());

        Action start = server.Start;

        start.Should().Throw<SocketException>()
            .Where(e => e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            .WithMessage($"Cannot listen on {squatter.LocalEndPoint}: *");
        server.Dispose();
        logs.Count(206).Should().Be(0, "a server that never listened does not say it stopped listening");
    }
}
