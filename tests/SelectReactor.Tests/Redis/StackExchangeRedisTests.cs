using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using RedisServer;
using StackExchange.Redis;

namespace SelectReactor.Tests.Redis;

/// <summary>samples/RedisServer driven by StackExchange.Redis, a client no one here wrote, with its default settings.</summary>
public sealed class StackExchangeRedisTests : IDisposable
{
    private readonly RedisApp _app = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly ConnectionMultiplexer _redis;

    public StackExchangeRedisTests()
    {
        int port = ((IPEndPoint)_app.Server.LocalEndPoint!).Port;
        _redis = ConnectionMultiplexer.Connect(new ConfigurationOptions
        {
            EndPoints = { { IPAddress.Loopback, port } },
            ConnectTimeout = 15_000,
            SyncTimeout = 15_000,
            AsyncTimeout = 15_000,
        });
    }

    [Fact]
    public void Connects_AndSeesAStandaloneServer()
    {
        _redis.IsConnected.Should().BeTrue();
        IServer server = _redis.GetServers().Single();
        server.ServerType.Should().Be(ServerType.Standalone);
        server.Version.Should().Be(new Version(7, 0, 15));
        _redis.GetDatabase().Ping().Should().BeGreaterThan(TimeSpan.Zero);
    }

    [Fact]
    public void Strings_RoundTripBinaryValues_AndCount()
    {
        IDatabase db = _redis.GetDatabase();
        byte[] value = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();

        db.StringSet("binary", value).Should().BeTrue();
        ((byte[]?)db.StringGet("binary")).Should().Equal(value);
        db.StringSet("binary", "x", when: When.NotExists).Should().BeFalse();
        db.StringIncrement("counter", 5).Should().Be(5);
        db.StringDecrement("counter").Should().Be(4);
        db.StringGet(["binary", "counter", "missing"]).Select(v => v.HasValue).Should().Equal(true, true, false);
        db.KeyDelete(["binary", "counter", "missing"]).Should().Be(2);
        db.KeyExists("counter").Should().BeFalse();
    }

    [Fact]
    public void Expiry_IsSetReadAndRemoved()
    {
        IDatabase db = _redis.GetDatabase();

        db.StringSet("ttl", "v", TimeSpan.FromSeconds(100)).Should().BeTrue();
        db.KeyTimeToLive("ttl").Should().BeCloseTo(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(5));
        db.KeyPersist("ttl").Should().BeTrue();
        db.KeyTimeToLive("ttl").Should().BeNull();
        db.KeyExpire("ttl", TimeSpan.FromMilliseconds(1)).Should().BeTrue();
        SelectReactor.Tests.Infrastructure.Wait.Until(() => !db.KeyExists("ttl"), "the key expired");
    }

    [Fact]
    public void Lists_PushPopAndRange()
    {
        IDatabase db = _redis.GetDatabase();

        db.ListRightPush("list", ["b", "c"]).Should().Be(2);
        db.ListLeftPush("list", "a").Should().Be(3);
        db.ListRange("list").Select(v => (string?)v).Should().Equal("a", "b", "c");
        db.ListLength("list").Should().Be(3);
        ((string?)db.ListLeftPop("list")).Should().Be("a");
        ((string?)db.ListRightPop("list")).Should().Be("c");
        FluentActions.Invoking(() => db.StringGet("list")).Should().Throw<RedisServerException>().WithMessage("WRONGTYPE*");
    }

    [Fact]
    public async Task ThousandsOfConcurrentAsyncCommands_ArePipelinedAndAllAnswered()
    {
        IDatabase db = _redis.GetDatabase();

        await Task.WhenAll(Enumerable.Range(0, 5_000).Select(i => db.StringSetAsync($"key:{i}", i)));
        RedisValue[] values = await Task.WhenAll(Enumerable.Range(0, 5_000).Select(i => db.StringGetAsync($"key:{i}")));

        values.Select(v => (int)v).Should().Equal(Enumerable.Range(0, 5_000));
        _app.State.Keyspace.Count.Should().Be(5_000);
    }

    public void Dispose()
    {
        _redis.Dispose();
        _app.Dispose();
    }
}
