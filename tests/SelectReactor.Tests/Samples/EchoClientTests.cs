using System;
using System.IO;
using System.Net;
using EchoClient;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>
/// The load client of samples/EchoClient, run in-process against an in-process echo server. It is the harness's
/// measuring stick, so these check that it counts right and that --verify really catches lost and corrupted bytes.
/// Serial: each test keeps a core busy for about a second.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class EchoClientTests
{
    [Fact]
    public void PingPong_AgainstEchoServer_VerifiesEveryByteWithNoErrors()
    {
        using var server = new ServerHarness(() => new TestEchoHandler());
        ClientOptions options = Options(server, "--conns 20 --size 64 --mode pingpong --duration 1 --warmup 0.2 --verify");
        var errors = new StringWriter();

        LoadResult result = LoadRun.Execute(options, errors);

        result.Errors.Should().Be(0, errors.ToString());
        result.Verified.Should().BeTrue();
        result.Messages.Should().BeGreaterThan(100);
        result.StalledConnections.Should().Be(0, "every connection made progress");
        result.Latency.Count.Should().Be(result.Messages, "every measured message has a round-trip time");
        result.ToResultLine().Should().StartWith("RESULT conns=20 size=64 mode=pingpong msgs_per_s=").And.Contain(" errors=0 verified=1 ");
    }

    [Fact]
    public void Stream_16KiBMessages_OnTwoReactors_VerifiesWithNoErrors()
    {
        using var server = new ServerHarness(() => new TestEchoHandler());
        ClientOptions options = Options(server, "--conns 4 --size 16384 --mode stream --duration 0.5 --warmup 0.1 --verify --threads 2");
        var errors = new StringWriter();

        LoadResult result = LoadRun.Execute(options, errors);

        result.Errors.Should().Be(0, errors.ToString());
        result.Verified.Should().BeTrue();
        result.Bytes.Should().BeGreaterThanOrEqualTo(result.Messages * 16384 - 4 * 65536, "bytes are counted as they arrive");
        result.MiBPerSecond.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Messages_SendsExactlyThatManyAndCountsEachOnce()
    {
        using var server = new ServerHarness(() => new TestEchoHandler());
        ClientOptions options = Options(server, "--conns 7 --messages 1000 --verify");

        LoadResult result = LoadRun.Execute(options, TextWriter.Null);

        result.Errors.Should().Be(0);
        result.Messages.Should().Be(1000);
        result.DurationSeconds.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Verify_ServerThatCorruptsOneByte_IsAnError()
    {
        using var server = new ServerHarness(() => new CorruptingEchoHandler(corruptAt: 10_000));
        ClientOptions options = Options(server, "--conns 2 --duration 0.5 --warmup 0 --verify");
        var errors = new StringWriter();

        LoadResult result = LoadRun.Execute(options, errors);

        result.Errors.Should().BeGreaterThan(0);
        result.VerifyErrors.Should().BeGreaterThan(0);
        result.Verified.Should().BeFalse();
        errors.ToString().Should().Contain("VERIFY MISMATCH at stream offset 10000");
    }

    [Fact]
    public void Drain_ServerThatSwallowsBytes_ReportsLostData()
    {
        using var server = new ServerHarness(() => new CorruptingEchoHandler(swallowAt: 6_400));
        ClientOptions options = Options(server, "--conns 1 --duration 0.3 --warmup 0 --drain 0.3");
        var errors = new StringWriter();

        LoadResult result = LoadRun.Execute(options, errors);

        result.Errors.Should().Be(1);
        result.LostConnections.Should().Be(1);
        errors.ToString().Should().Contain("lost data");
    }

    private static ClientOptions Options(ServerHarness server, string arguments)
    {
        int port = ((IPEndPoint)server.EndPoint).Port;
        ClientOptions? options = ClientOptions.Parse($"--port {port} {arguments}".Split(' '), out string? error);
        options.Should().NotBeNull(error);
        return options!;
    }

    /// <summary>Echoes, but flips the byte at one stream offset, or drops every byte from one offset on.</summary>
    private sealed class CorruptingEchoHandler(long corruptAt = -1, long swallowAt = -1) : ConnectionHandler
    {
        private long _seen;

        public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
        {
            long start = _seen;
            _seen += data.Length;
            if (swallowAt >= 0 && _seen > swallowAt)
            {
                data = data[..(int)Math.Max(0, swallowAt - start)];
            }

            byte[] copy = data.ToArray();
            if (corruptAt >= start && corruptAt < start + copy.Length)
            {
                copy[corruptAt - start] ^= 0xFF;
            }

            connection.Send(copy);
        }
    }
}
