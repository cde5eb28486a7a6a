using System;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using RedisServer;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Redis;

/// <summary>
/// samples/RedisServer byte for byte: replies, Redis's error texts and protocol limits, pipelining, inline commands,
/// binary safety, expiry by timer, and the asynchronous DEBUG SLEEP. Expected bytes are what redis-server 7.0.15
/// answers to the same requests.
/// </summary>
public sealed class RedisProtocolTests : IDisposable
{
    private readonly RedisApp _app = new(new IPEndPoint(IPAddress.Loopback, 0));

    private int Port => ((IPEndPoint)_app.Server.LocalEndPoint!).Port;

    [Fact]
    public void Pipeline_ManyCommandsInOneSend_AreAnsweredInOrder()
    {
        using var client = new RespSocket(Port);

        client.Send([.. RespSocket.Command("SET", "k", "v"), .. RespSocket.Command("GET", "k"), .. RespSocket.Command("INCR", "n"), .. RespSocket.Command("INCRBY", "n", "41"), .. RespSocket.Command("GET", "missing")]);

        new[] { client.ReadReply(), client.ReadReply(), client.ReadReply(), client.ReadReply(), client.ReadReply() }
            .Should().Equal("+OK\r\n", "$1\r\nv\r\n", ":1\r\n", ":42\r\n", "$-1\r\n");
    }

    [Fact]
    public void InlineCommands_WithQuotesAndEscapes_AreSplitAsRedisDoes()
    {
        using var client = new RespSocket(Port);

        client.Send("PING\r\nSET \"a b\" 'c d'\r\nGET \"a b\"\r\nECHO \"\\x41\\n\"\n\r\n");

        new[] { client.ReadReply(), client.ReadReply(), client.ReadReply(), client.ReadReply() }
            .Should().Equal("+PONG\r\n", "+OK\r\n", "$3\r\nc d\r\n", "$2\r\nA\n\r\n");
    }

    [Fact]
    public void KeysAndValues_AreBinarySafe()
    {
        using var client = new RespSocket(Port);
        byte[] key = [0, 1, 2, 255, 13, 10];
        byte[] value = new byte[70_000];
        new Random(7).NextBytes(value);

        client.Send(RespSocket.Command("SET"u8.ToArray(), key, value));
        client.ReadReply().Should().Be("+OK\r\n");
        client.Send(RespSocket.Command("GET"u8.ToArray(), key));
        byte[] reply = client.ReadReplyBytes();

        reply.Should().Equal([.. "$70000\r\n"u8.ToArray(), .. value, .. "\r\n"u8.ToArray()]);
        client.Send(RespSocket.Command("STRLEN"u8.ToArray(), key)); // not a command here: an error, and the connection goes on
        client.ReadReply().Should().StartWith("-ERR unknown command 'STRLEN'");
        client.Send(RespSocket.Command("EXISTS"u8.ToArray(), key));
        client.ReadReply().Should().Be(":1\r\n");
    }

    [Theory]
    [InlineData(new[] { "GET" }, "-ERR wrong number of arguments for 'get' command\r\n")]
    [InlineData(new[] { "NOSUCH", "a", "b" }, "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n")]
    [InlineData(new[] { "SET", "k", "v", "EX", "0" }, "-ERR invalid expire time in 'set' command\r\n")]
    [InlineData(new[] { "SET", "k", "v", "NX", "XX" }, "-ERR syntax error\r\n")]
    [InlineData(new[] { "INCRBY", "k", "x" }, "-ERR value is not an integer or out of range\r\n")]
    [InlineData(new[] { "CLIENT", "SETNAME", "my name" }, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")]
    [InlineData(new[] { "CLIENT", "FOO" }, "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n")]
    [InlineData(new[] { "EXPIRE", "k", "10", "NX", "XX" }, "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")]
    [InlineData(new[] { "LPOP", "k", "-1" }, "-ERR value is out of range, must be positive\r\n")]
    [InlineData(new[] { "SELECT", "1000" }, "-ERR DB index is out of range\r\n")]
    public void Errors_UseRedisWording(string[] command, string expected)
    {
        using var client = new RespSocket(Port);

        client.Call(command).Should().Be(expected);
        client.Call("PING").Should().Be("+PONG\r\n", "an error reply does not end the connection");
    }

    [Fact]
    public void TypesAndOverflow_AreCheckedAsRedisDoes()
    {
        using var client = new RespSocket(Port);

        client.Call("RPUSH", "l", "a", "b", "c").Should().Be(":3\r\n");
        client.Call("GET", "l").Should().Be("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        client.Call("LRANGE", "l", "-2", "100").Should().Be("*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
        client.Call("RPOP", "l", "2").Should().Be("*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
        client.Call("LPOP", "l").Should().Be("$1\r\na\r\n");
        client.Call("EXISTS", "l").Should().Be(":0\r\n", "an emptied list is deleted");
        client.Call("SET", "big", "9223372036854775807").Should().Be("+OK\r\n");
        client.Call("INCR", "big").Should().Be("-ERR increment or decrement would overflow\r\n");
        client.Call("MSET", "a", "1", "b").Should().Be("-ERR wrong number of arguments for 'mset' command\r\n");
        client.Call("MGET", "a", "big", "zz").Should().Be("*3\r\n$-1\r\n$19\r\n9223372036854775807\r\n$-1\r\n");
    }

    [Theory]
    [InlineData("*x\r\n", "invalid multibulk length")]
    [InlineData("*2147483648\r\n", "invalid multibulk length")]
    [InlineData("*1\r\n$-5\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$536870913\r\n", "invalid bulk length")]
    [InlineData("*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'")]
    [InlineData("GET \"unbalanced\r\n", "unbalanced quotes in request")]
    public void MalformedRequest_GetsProtocolError_AndClosesOnlyThatConnection(string request, string error)
    {
        using var bystander = new RespSocket(Port);
        using var client = new RespSocket(Port);
        client.Call("PING").Should().Be("+PONG\r\n");

        client.Send(request);

        client.ReadToEnd().Should().Be($"-ERR Protocol error: {error}\r\n");
        bystander.Call("PING").Should().Be("+PONG\r\n");
    }

    [Theory]
    [InlineData("", "too big inline request")]
    [InlineData("*", "too big mbulk count string")]
    [InlineData("*1\r\n$", "too big bulk count string")]
    public void EndlessLine_PastTheInlineLimit_GetsProtocolError(string prefix, string error)
    {
        using var client = new RespSocket(Port);

        client.Send(prefix + new string('1', 70_000));

        client.ReadToEnd().Should().Be($"-ERR Protocol error: {error}\r\n");
    }

    [Fact]
    public void HugeDeclaredCounts_AllocateNothingForThemselves()
    {
        using var client = new RespSocket(Port);
        client.Call("PING").Should().Be("+PONG\r\n");
        long before = Allocated();

        // The largest legal count and bulk length, followed by only a few bytes of either.
        client.Send("*2147483647\r\n$536870912\r\nabc");
        using var other = new RespSocket(Port);
        other.Call("PING").Should().Be("+PONG\r\n"); // the server read and parsed the bytes above by now
        long allocated = Allocated() - before;

        allocated.Should().BeLessThan(256 * 1024, "neither the argument table nor the bulk is sized by what the request declares");
    }

    [Fact]
    public void Expiry_RemovesKeysNobodyTouches_ByTimer()
    {
        using var client = new RespSocket(Port);
        client.Call("SET", "short", "v", "PX", "50").Should().Be("+OK\r\n");
        client.Call("SET", "long", "v", "EX", "100").Should().Be("+OK\r\n");
        client.Call("DBSIZE").Should().Be(":2\r\n");

        // DBSIZE counts keys without looking at their expiry, as in Redis: only the active expiry can lower it.
        Wait.Until(() => client.Call("DBSIZE") == ":1\r\n", "the expiry timer removed the short-lived key");

        client.Call("TTL", "long").Should().Be(":100\r\n");
        client.Call("PERSIST", "long").Should().Be(":1\r\n");
        client.Call("TTL", "long").Should().Be(":-1\r\n");
    }

    [Fact]
    public void Quit_RepliesOkAndCloses()
    {
        using var client = new RespSocket(Port);

        client.Send([.. RespSocket.Command("QUIT"), .. RespSocket.Command("PING")]);

        client.ReadToEnd().Should().Be("+OK\r\n");
    }

    [Fact]
    public void DebugSleep_WaitsForThatConnectionOnly_AndKeepsItsRepliesInOrder()
    {
        using var sleeper = new RespSocket(Port);
        using var other = new RespSocket(Port);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        sleeper.Send([.. RespSocket.Command("DEBUG", "SLEEP", "1"), .. RespSocket.Command("SET", "after", "1"), .. RespSocket.Command("GET", "after")]);
        string otherReply = other.Call("GET", "after");
        TimeSpan otherAnsweredAt = clock.Elapsed;
        string[] replies = [sleeper.ReadReply(), sleeper.ReadReply(), sleeper.ReadReply()];

        otherReply.Should().Be("$-1\r\n", "the SET queued behind the sleep has not run yet");
        otherAnsweredAt.Should().BeLessThan(TimeSpan.FromMilliseconds(900), "other clients are served while one sleeps");
        replies.Should().Equal("+OK\r\n", "+OK\r\n", "$1\r\n1\r\n");
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950));
    }

    public void Dispose() => _app.Dispose();

    private long Allocated()
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _app.Reactor.Post(() => done.SetResult(GC.GetAllocatedBytesForCurrentThread()));
        return Wait.Result(done.Task);
    }
}
