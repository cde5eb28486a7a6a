using System;
using System.Linq;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>
/// Every server sample, as a process, stopped by a signal: under load each client's stream ends with FIN and
/// everything it got back is intact, and the process exits 0 within 5 seconds; a signal sent the moment the ready line
/// is read is handled the same way (the line means ready for signals too).
/// </summary>
public sealed class SampleStopTests
{
    [Theory]
    [InlineData("EchoServer", Signals.SIGTERM)]
    [InlineData("EchoServer", Signals.SIGINT)]
    [InlineData("ChatServer", Signals.SIGTERM)]
    [InlineData("ChatServer", Signals.SIGINT)]
    [InlineData("QuickStart", Signals.SIGTERM)]
    [InlineData("QuickStart", Signals.SIGINT)]
    [InlineData("RawEcho", Signals.SIGTERM)]
    [InlineData("RawEcho", Signals.SIGINT)]
    [InlineData("RedisServer", Signals.SIGTERM)]
    [InlineData("RedisServer", Signals.SIGINT)]
    public void Signal_UnderLoad_EveryClientGetsAnOrderlyEndWithItsDataIntact_AndTheProcessExits0Within5Seconds(string sample, int signal)
    {
        (int? exit, TimeSpan took, string[] outcomes, string stderr) = SampleStop.UnderLoad(ServerSample.Get(sample), signal, clients: 8);

        outcomes.Should().AllBe("FIN", "no client is reset or sees a broken answer; stderr: " + stderr);
        exit.Should().Be(0, "stderr: " + stderr);
        took.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("EchoServer")]
    [InlineData("ChatServer")]
    [InlineData("QuickStart")]
    [InlineData("RawEcho")]
    [InlineData("RedisServer")]
    public void Sigterm_TheMomentTheReadyLineIsRead_StopsGracefully(string sample)
    {
        // Several at once, each signalled from the thread that reads its first line, as soon as it reads it.
        ServerSample server = ServerSample.Get(sample);
        SampleProcess[] processes = Enumerable.Range(0, 4)
            .Select(_ => SampleProcess.StartSample(server.Name, server.Arguments, onFirstLine: (p, _) => p.Signal(Signals.SIGTERM)))
            .ToArray();
        try
        {
            int?[] exits = processes.Select(p => p.WaitExit(Wait.Generous)).ToArray();

            exits.Should().AllBeEquivalentTo(0, "a SIGTERM after the ready line is a graceful stop, never the default exit 143");
            processes.Should().AllSatisfy(p => p.StdoutLines.Should().HaveCount(1));
        }
        finally
        {
            foreach (SampleProcess process in processes)
            {
                process.Dispose();
            }
        }
    }
}
