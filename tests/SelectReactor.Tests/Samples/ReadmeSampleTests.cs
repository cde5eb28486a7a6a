using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>The two README programs, run as processes: they must do what the README says they do.</summary>
[Collection(SerialCollection.Name)]
public sealed partial class ReadmeSampleTests
{
    [Fact]
    public void QuickStart_UpperCasesLinesAndQuitClosesTheConnection()
    {
        using SampleProcess sample = SampleProcess.StartSample("QuickStart", "0");
        int port = PortIn(sample.WaitFirstLine());
        using Socket client = Connect(port);

        client.Send(Encoding.UTF8.GetBytes("héllo wörld\r\nsecond line\nquit\n"));
        string all = Encoding.UTF8.GetString(SocketIo.ReceiveToEnd(client));

        all.Should().Be("hello; send lines, 'quit' ends\nHÉLLO WÖRLD\nSECOND LINE\n");
    }

    [Fact]
    public void RawEcho_EchoesAndClosesAtEndOfStream()
    {
        using SampleProcess sample = SampleProcess.StartSample("RawEcho", "0");
        int port = PortIn(sample.WaitFirstLine());
        using Socket client = Connect(port);

        client.Send("raw reactor echo"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);

        Encoding.ASCII.GetString(SocketIo.ReceiveToEnd(client)).Should().Be("raw reactor echo");
    }

    private static int PortIn(string line)
    {
        Match match = EndPointInLine().Match(line);
        match.Success.Should().BeTrue($"the first line names the end point: '{line}'");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Socket Connect(int port)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 15_000 };
        client.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return client;
    }

    [GeneratedRegex(@"127\.0\.0\.1:(\d+);")]
    private static partial Regex EndPointInLine();
}
