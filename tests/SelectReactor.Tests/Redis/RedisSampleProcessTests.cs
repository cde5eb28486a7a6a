using System;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Redis;

/// <summary>samples/RedisServer as a process, driven by Redis's own command-line tools and stopped by SIGTERM.</summary>
[Collection(SerialCollection.Name)]
public sealed partial class RedisSampleProcessTests
{
    [RedisToolsFact]
    public void RedisCli_CommandsFromStdinAndMassInsertion_AllAnswered_ThenSigtermExitsZero()
    {
        (SampleProcess sample, int port) = Start();
        using (sample)
        {
            RedisTools.Run("redis-cli", $"-p {port} ping").Stdout.Should().Be("PONG\n");

            var (exit, stdout, stderr) = RedisTools.Run("redis-cli", $"-p {port}", "SET k \"hello world\"\nGET k\nINCR n\nRPUSH l a b\nLRANGE l 0 -1\nDBSIZE\nGET nothing\nGET\n");
            exit.Should().Be(0, stderr);
            stdout.Should().Be("OK\nhello world\n1\n2\na\nb\n3\n\nERR wrong number of arguments for 'get' command\n\n", "redis-cli prints a nil as an empty line, an error with one more");

            // Mass insertion as Redis documents it: raw RESP piped in, counted replies, an ECHO to find the end.
            var protocol = new StringBuilder();
            for (int i = 0; i < 10_000; i++)
            {
                string key = $"mass:{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                protocol.Append("*3\r\n$3\r\nSET\r\n$").Append(key.Length).Append("\r\n").Append(key).Append("\r\n$1\r\nv\r\n");
            }

            (exit, stdout, stderr) = RedisTools.Run("redis-cli", $"-p {port} --pipe", protocol.ToString());
            exit.Should().Be(0, stderr);
            stdout.Should().Contain("errors: 0, replies: 10000");
            RedisTools.Run("redis-cli", $"-p {port} dbsize").Stdout.Should().Be("10003\n");
            RedisTools.Run("redis-cli", $"-p {port} info server").Stdout.Should().Contain("redis_version:7.0.15");

            sample.Signal(Signals.SIGTERM);
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "SIGTERM stops it gracefully; stderr: " + sample.Stderr);
            sample.StdoutLines.Should().ContainSingle().Which.Should().Be($"listening on 127.0.0.1:{port}");
        }
    }

    [RedisToolsFact]
    public void RedisBenchmark_EveryTestItRuns_CompletesWithoutError()
    {
        (SampleProcess sample, int port) = Start();
        using (sample)
        {
            var (exit, stdout, stderr) = RedisTools.Run(
                "redis-benchmark",
                $"-p {port} -t ping,set,get,incr,lpush,rpush,lpop,rpop,lrange_100,mset -n 2000 -c 20 -P 8 -q",
                timeout: TimeSpan.FromSeconds(60));

            exit.Should().Be(0, stderr);
            string[] results = stdout.Split('\r', '\n').Where(line => line.Contains("requests per second", StringComparison.Ordinal)).ToArray();
            results.Select(line => line.Trim().Split(':')[0]).Should().Contain(
                ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE_100 (first 100 elements)", "MSET (10 keys)"]);
            (stdout + stderr).Should().NotContainAny("ERR", "Error", "error");
            sample.Signal(Signals.SIGTERM);
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "stderr: " + sample.Stderr);
        }
    }

    private static (SampleProcess Sample, int Port) Start()
    {
        SampleProcess sample = SampleProcess.StartSample("RedisServer", "--port 0");
        string line = sample.WaitFirstLine();
        Match match = ListeningLine().Match(line);
        if (!match.Success)
        {
            sample.Dispose();
            throw new InvalidOperationException($"unexpected first line '{line}'; stderr: {sample.Stderr}");
        }

        return (sample, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^listening on 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();
}
