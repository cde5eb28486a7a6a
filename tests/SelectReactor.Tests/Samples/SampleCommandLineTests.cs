using System;
using System.Linq;
using System.Net.Sockets;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>Every sample, as a process: a bad command line and a port in use each get one clear line and an exit code.</summary>
public sealed class SampleCommandLineTests
{
    [Theory]
    [InlineData("EchoServer", "--bogus")]
    [InlineData("EchoServer", "--port")]
    [InlineData("EchoServer", "--port 99999")]
    [InlineData("EchoServer", "--high-watermark 10")]
    [InlineData("ChatServer", "--bogus")]
    [InlineData("ChatServer", "--max-line x")]
    [InlineData("QuickStart", "notaport")]
    [InlineData("QuickStart", "1 2")]
    [InlineData("RawEcho", "70000")]
    [InlineData("RawEcho", "--bogus")]
    [InlineData("EchoClient", "--bogus")]
    [InlineData("EchoClient", "--conns 0")]
    [InlineData("RedisServer", "--bogus")]
    [InlineData("RedisServer", "--port x")]
    public void BadArguments_OneErrorLineThenUsage_Exit2(string sample, string arguments)
    {
        using SampleProcess process = SampleProcess.StartSample(sample, arguments);

        int? exit = process.WaitExit(Wait.Generous);

        exit.Should().Be(2, "stderr: " + process.Stderr);
        string[] lines = process.Stderr.Split('\n');
        lines[0].Should().StartWith("error: ");
        lines[1].Should().StartWith($"usage: {sample}");
        process.Stderr.Should().NotContain("Unhandled exception").And.NotContain("   at ");
        process.StdoutLines.Should().BeEmpty();
    }

    [Theory]
    [InlineData("EchoServer", "--bogus", "unknown option: --bogus")]
    [InlineData("ChatServer", "--bogus 1", "unknown option: --bogus")]
    [InlineData("EchoClient", "--bogus", "unknown option: --bogus")]
    [InlineData("EchoServer", "--port", "--port needs a value")]
    public void BadArguments_SayWhatIsWrong(string sample, string arguments, string error)
    {
        using SampleProcess process = SampleProcess.StartSample(sample, arguments);

        process.WaitExit(Wait.Generous).Should().Be(2);

        process.Stderr.Split('\n')[0].Should().Be("error: " + error);
    }

    [Theory]
    [InlineData("EchoServer", "--port {0}")]
    [InlineData("ChatServer", "--port {0}")]
    [InlineData("QuickStart", "{0}")]
    [InlineData("RawEcho", "{0}")]
    [InlineData("RedisServer", "--port {0}")]
    public void PortInUse_OneErrorLineNamingTheEndPoint_Exit1(string sample, string arguments)
    {
        using Socket squatter = Loopback.Listen();
        int port = ((System.Net.IPEndPoint)squatter.LocalEndPoint!).Port;
        using SampleProcess process = SampleProcess.StartSample(sample, string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, port));

        int? exit = process.WaitExit(Wait.Generous);

        exit.Should().Be(1, "stderr: " + process.Stderr);
        string last = process.Stderr.Split('\n').Last(l => l.Length > 0);
        last.Should().StartWith("error: ").And.Contain($"127.0.0.1:{port}").And.Contain("in use");
        process.Stderr.Should().NotContain("Unhandled exception");
        process.StdoutLines.Should().BeEmpty("nothing said it was listening");
    }
}
