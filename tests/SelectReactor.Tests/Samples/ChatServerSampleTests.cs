using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ChatServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelectReactor.Hosting;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>samples/ChatServer, run in-process on its real host (and once as a process), driven by real loopback clients.</summary>
public sealed class ChatServerSampleTests
{
    [Fact]
    public async Task ThreeClients_NicknamesAreCheckedAndEachLineReachesEveryoneElse()
    {
        using IHost host = await StartAsync();
        EndPoint endPoint = ChatEndPoint(host);
        using LineClient alice = Connect(endPoint);
        using LineClient bob = Connect(endPoint);
        using LineClient carol = Connect(endPoint);

        Join(alice, "alice").Should().Be("* welcome alice; online: alice");
        Join(bob, "bob").Should().Be("* welcome bob; online: alice, bob");
        alice.ReadLine().Should().Be("* bob joined");
        carol.ReadLine().Should().Be("* hello; send your nickname");
        carol.Send("BOB");
        carol.ReadLine().Should().Be("error: nickname 'BOB' is taken");
        carol.Send("carol smith");
        carol.ReadLine().Should().StartWith("error: a nickname is 1 to 32 letters");
        carol.Send("carol");
        carol.ReadLine().Should().Be("* welcome carol; online: alice, bob, carol");
        alice.ReadLine().Should().Be("* carol joined");
        bob.ReadLine().Should().Be("* carol joined");

        alice.Send("hi all");
        bob.Send("hi alice\r"); // a \r\n line ending is accepted too

        bob.ReadLine().Should().Be("alice: hi all");
        carol.ReadLine().Should().Be("alice: hi all");
        alice.ReadLine().Should().Be("bob: hi alice", "a sender does not get its own line back");
        carol.ReadLine().Should().Be("bob: hi alice");
        carol.Dispose();
        alice.ReadLine().Should().Be("* carol left");
        bob.ReadLine().Should().Be("* carol left");
        await StopAsync(host, alice, bob);
    }

    [Fact]
    public async Task LongLine_GetsAnErrorLineAndClosesOnlyThatClient()
    {
        using IHost host = await StartAsync();
        EndPoint endPoint = ChatEndPoint(host);
        using LineClient alice = Connect(endPoint);
        using LineClient bob = Connect(endPoint);
        using LineClient dave = Connect(endPoint);
        Join(alice, "alice");
        Join(bob, "bob");
        alice.ReadLine().Should().Be("* bob joined");
        Join(dave, "dave");
        alice.ReadLine().Should().Be("* dave joined");
        bob.ReadLine().Should().Be("* dave joined");
        string longest = new('x', 1024);

        dave.Send(longest);
        alice.ReadLine().Should().Be("dave: " + longest, "1,024 bytes is the limit, not past it");
        bob.ReadLine().Should().Be("dave: " + longest);
        dave.SendRaw(Encoding.ASCII.GetBytes(new string('y', 1025))); // no newline needed to be refused

        dave.ReadLine().Should().Be("error: line longer than 1024 bytes; closing");
        dave.ReadLine().Should().BeNull("the server then ends the stream");
        alice.ReadLine().Should().Be("* dave left (line too long)");
        bob.ReadLine().Should().Be("* dave left (line too long)");
        bob.Send("still here");
        alice.ReadLine().Should().Be("bob: still here");
        await StopAsync(host, alice, bob, dave);
    }

    [Fact]
    public async Task SlowConsumer_ThatNeverReads_IsDisconnectedWhileTheOthersReceiveEverything()
    {
        using IHost host = await StartAsync();
        EndPoint endPoint = ChatEndPoint(host);
        using LineClient alice = Connect(endPoint);
        using LineClient bob = Connect(endPoint);
        // A small receive window, so that the kernel holds little on carol's behalf and the server sees her lag soon.
        using LineClient carol = Connect(endPoint, receiveBufferSize: 4096);
        Join(alice, "alice");
        Join(bob, "bob");
        Join(carol, "carol");
        alice.ReadLine().Should().Be("* bob joined");
        alice.ReadLine().Should().Be("* carol joined");
        bob.ReadLine().Should().Be("* carol joined");
        // From here on carol reads nothing.

        // Bob reads on a thread of his own and grants alice credit line by line, so he is never more than 32 lines
        // (32 KB) behind, well under the limit, however the machine schedules him: on a loaded machine a reader
        // that falls behind by more than the limit is cut off too, which is the policy under test, not a flake.
        using var credits = new SemaphoreSlim(32);
        var bobSawCarolLeave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<List<string>> bobReads = Task.Factory.StartNew(
            () =>
            {
                var lines = new List<string>();
                for (string? line = bob.ReadLine(); line is not null && line != "alice: done"; line = bob.ReadLine())
                {
                    if (line == "* carol left (too slow)")
                    {
                        bobSawCarolLeave.TrySetResult();
                        continue;
                    }

                    lines.Add(line);
                    credits.Release();
                }

                return lines;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        string padding = new('.', 1000);
        int sent = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Bounded: at most 50,000 lines of 1 KB (about 50 MB through the server), and the generous time.
        while (!bobSawCarolLeave.Task.IsCompleted && sent < 50_000 && clock.Elapsed < Wait.Generous)
        {
            credits.Wait(Wait.Generous).Should().BeTrue("bob keeps receiving");
            alice.Send($"{sent:D6} {padding}");
            sent++;
        }

        alice.Send("done");
        List<string> received = await bobReads.WaitAsync(Wait.Generous);

        bobSawCarolLeave.Task.IsCompleted.Should().BeTrue($"carol never read and should have been cut off within {sent} lines");
        alice.ReadLine().Should().Be("* carol left (too slow)");
        received.Should().HaveCount(sent, "bob kept receiving every line");
        received.Should().Equal(Enumerable.Range(0, sent).Select(i => $"alice: {i:D6} {padding}"));
        await StopAsync(host, alice, bob, carol);
    }

    [Fact]
    public void Process_PrintsExactlyOneListeningLine_ChatsAndExitsZeroOnSigterm()
    {
        using SampleProcess sample = SampleProcess.StartSample("ChatServer", "--port 0");
        string first = sample.WaitFirstLine();
        first.Should().MatchRegex(@"^listening on 127\.0\.0\.1:\d+$", "stderr: " + sample.Stderr);
        var endPoint = IPEndPoint.Parse(first["listening on ".Length..]);
        using (LineClient alice = Connect(endPoint))
        using (LineClient bob = Connect(endPoint))
        {
            Join(alice, "alice");
            Join(bob, "bob");
            alice.ReadLine().Should().Be("* bob joined");
            bob.Send("hi");
            alice.ReadLine().Should().Be("bob: hi");
        }

        sample.Signal(Signals.SIGTERM);

        sample.WaitExit(Wait.Generous).Should().Be(0, "SIGTERM stops it gracefully; stderr: " + sample.Stderr);
        sample.StdoutLines.Should().ContainSingle("logs go to stderr");
    }

    [Theory]
    [InlineData("--port x")]
    [InlineData("--port 65536")]
    [InlineData("--host example.org")]
    [InlineData("--max-line 0")]
    [InlineData("--max-pending 10")]
    [InlineData("--bogus 1")]
    [InlineData("--port")]
    public void Options_Bad_AreRefusedWithAReason(string arguments)
    {
        ChatOptions? options = ChatOptions.Parse(arguments.Split(' '), out string? error);

        options.Should().BeNull();
        error.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Options_Defaults_And_Port0_AreAccepted()
    {
        ChatOptions? options = ChatOptions.Parse(["--port", "0"], out string? error);

        error.Should().BeNull();
        options!.Port.Should().Be(0);
        options.MaxLineLength.Should().Be(1024);
        options.Host.Should().Be(IPAddress.Loopback);
    }

    private static async Task<IHost> StartAsync()
    {
        IHost host = ChatApp.Build(new ChatOptions { Port = 0 });
        await host.StartAsync().WaitAsync(Wait.Generous);
        return host;
    }

    /// <summary>Clients go first: the host's graceful stop would otherwise wait out the close timeout for their FIN.</summary>
    private static async Task StopAsync(IHost host, params LineClient[] clients)
    {
        foreach (LineClient client in clients)
        {
            client.Dispose();
        }

        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    private static EndPoint ChatEndPoint(IHost host) =>
        host.Services.GetRequiredService<TcpServerRegistry>().GetServer<ChatHandler>().LocalEndPoint!;

    /// <summary>A chat client: linger 0, so that disposing it leaves nothing for the server to wait for.</summary>
    private static LineClient Connect(EndPoint endPoint, int? receiveBufferSize = null) =>
        new(Loopback.Connect(endPoint, resetOnDispose: true, receiveBufferSize: receiveBufferSize));

    /// <summary>Reads the greeting, sends the nickname, returns the server's answer.</summary>
    private static string? Join(LineClient client, string nick)
    {
        client.ReadLine().Should().Be("* hello; send your nickname");
        return client.Send(nick).ReadLine();
    }
}
