using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>
/// Every server sample's output, redirected the ways supervisors redirect it: to separate files, both streams to one
/// file (<c>&gt; log 2&gt;&amp;1</c>), and appended to an existing file. (Pipes are what the other process tests use.)
/// Nothing written may be lost or overwritten.
/// </summary>
public sealed partial class SampleOutputTests
{
    [Theory]
    [InlineData("EchoServer", "> {out} 2> {err}")]
    [InlineData("EchoServer", "> {out} 2>&1")]
    [InlineData("EchoServer", ">> {out} 2>&1")]
    [InlineData("ChatServer", "> {out} 2>&1")]
    [InlineData("ChatServer", ">> {out} 2>&1")]
    [InlineData("QuickStart", "> {out} 2>&1")]
    [InlineData("RawEcho", ">> {out} 2>&1")]
    [InlineData("RedisServer", "> {out} 2>&1")]
    [InlineData("RedisServer", ">> {out} 2>&1")]
    public void ReadyLineAndLogs_AllReachTheFile(string sample, string redirection)
    {
        ServerSample server = ServerSample.Get(sample);
        string directory = Directory.CreateTempSubdirectory("sr-output-").FullName;
        string output = Path.Combine(directory, "out.log");
        string errors = Path.Combine(directory, "err.log");
        File.WriteAllText(output, "earlier line\n");
        using var process = Process.Start(new ProcessStartInfo
        {
            FileName = "/bin/sh",
            // exec: the shell becomes the sample, so the signal below reaches it.
            ArgumentList = { "-c", $"exec dotnet '{SampleProcess.Dll(sample)}' {server.Arguments} " + redirection.Replace("{out}", $"'{output}'").Replace("{err}", $"'{errors}'") },
            UseShellExecute = false,
        })!;
        try
        {
            string ready = "";
            Wait.Until(() => (ready = ReadyLine(File.ReadAllText(output))) != "", "the ready line is in the file");
            int port = SampleProcess.PortIn(ready);
            // A connection, so that the servers that log have something more to say on the way out.
            using (LoadClient client = server.StartClient(port, 0))
            {
                Wait.Until(() => client.Exchanges >= 1 || client.Outcome.IsCompleted, "one exchange");
                Kill(process.Id);
                process.WaitForExit((int)Wait.Generous.TotalMilliseconds).Should().BeTrue();
                client.Outcome.Wait(Wait.Generous).Should().BeTrue();
            }

            process.ExitCode.Should().Be(0);
            string all = File.ReadAllText(output) + (File.Exists(errors) ? File.ReadAllText(errors) : "");
            string[] lines = all.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.Count(l => l == ready).Should().Be(1, $"the ready line survives whole, once; the file: {all}");
            if (redirection.StartsWith(">>", StringComparison.Ordinal))
            {
                lines[0].Should().Be("earlier line", "appending keeps what was there");
            }

            if (sample is "EchoServer" or "ChatServer" or "RedisServer")
            {
                // Their loggers say when they listen and when they stop: both lines whole, next to the ready line.
                lines.Should().Contain(l => l.Contains("Listening on 127.0.0.1:", StringComparison.Ordinal));
                lines.Should().Contain(l => l.Contains("Stopped listening on 127.0.0.1:", StringComparison.Ordinal));
                lines.Should().OnlyContain(l => WellFormed().IsMatch(l), $"no line is cut into or written over; the file: {all}");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static string ReadyLine(string text) => text.Split('\n').FirstOrDefault(l => ReadyPattern().IsMatch(l)) ?? "";

    private static void Kill(int pid)
    {
        using var kill = Process.Start("kill", $"-TERM {pid}");
        kill.WaitForExit();
    }

    [GeneratedRegex(@"^(listening|upper-casing lines|echoing) on 127\.0\.0\.1:\d+")]
    private static partial Regex ReadyPattern();

    // The ready line, the earlier line, or a log line from the console logger ("info: Category[id] message").
    [GeneratedRegex(@"^(earlier line|listening on 127\.0\.0\.1:\d+|(info|warn|fail|dbug|trce|crit): [\w.]+\[\d+\] .*)$")]
    private static partial Regex WellFormed();
}
