using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>The server samples as the process tests drive them: how each starts, and a client that keeps it busy.</summary>
public sealed record ServerSample(string Name, string Arguments)
{
    public static readonly ServerSample Echo = new("EchoServer", "--port 0");
    public static readonly ServerSample Chat = new("ChatServer", "--port 0");
    public static readonly ServerSample QuickStart = new("QuickStart", "0");
    public static readonly ServerSample RawEcho = new("RawEcho", "0");
    public static readonly ServerSample Redis = new("RedisServer", "--port 0");

    public static ServerSample Get(string name) => new[] { Echo, Chat, QuickStart, RawEcho, Redis }.Single(s => s.Name == name);

    /// <summary>
    /// One client that talks to the sample until the server ends the stream, checking everything it gets back; it
    /// reports how the stream ended. Every exchange is answered before the next, so the load stays within what a
    /// naive server (RawEcho drops what a partial send leaves) handles.
    /// </summary>
    public LoadClient StartClient(int port, int index) => Name switch
    {
        "ChatServer" => LoadClient.Start(port, index, ChatExchanges),
        "QuickStart" => LoadClient.Start(port, index, UpperCaseExchanges),
        "RedisServer" => LoadClient.Start(port, index, RedisExchanges),
        _ => LoadClient.Start(port, index, EchoExchanges),
    };

    private static void EchoExchanges(LoadClient client)
    {
        var random = new Random(client.Index);
        byte[] sent = new byte[2048];
        byte[] got = new byte[2048];
        while (true)
        {
            int size = random.Next(1, sent.Length);
            random.NextBytes(sent.AsSpan(0, size));
            client.Socket.Send(sent, 0, size, SocketFlags.None);
            int n = client.ReceiveUpTo(got, size);
            got.AsSpan(0, n).SequenceEqual(sent.AsSpan(0, n)).Should().BeTrue("the echo is exactly what was sent");
            if (n < size)
            {
                return; // the server ended the stream in the middle of the answer: the part that came is intact
            }

            client.Exchanged();
        }
    }

    private static void UpperCaseExchanges(LoadClient client)
    {
        client.ReadLine().Should().Be("hello; send lines, 'quit' ends");
        for (int i = 0; ; i++)
        {
            client.Socket.Send(Encoding.ASCII.GetBytes($"client {client.Index} line {i}\n"));
            string? line = client.ReadLine();
            if (line is null)
            {
                return;
            }

            line.Should().Be($"CLIENT {client.Index} LINE {i}");
            client.Exchanged();
        }
    }

    private static void RedisExchanges(LoadClient client)
    {
        for (int i = 0; ; i++)
        {
            string text = $"client{client.Index}-{i}";
            client.Socket.Send(Encoding.ASCII.GetBytes($"ECHO {text}\r\n"));
            string? length = client.ReadLine();
            if (length is null)
            {
                return;
            }

            length.Should().Be($"${text.Length}\r");
            string? value = client.ReadLine();
            if (value is null)
            {
                return; // the server ended the stream in the middle of the answer
            }

            value.Should().Be(text + "\r");
            client.Exchanged();
        }
    }

    private static void ChatExchanges(LoadClient client)
    {
        string nick = $"c{client.Index}";
        client.ReadLine().Should().Be("* hello; send your nickname");
        client.Socket.Send(Encoding.ASCII.GetBytes(nick + "\n"));
        client.ReadLine().Should().StartWith($"* welcome {nick}; online:");
        client.Exchanged();

        // A line every few milliseconds from a sender of its own, while this thread reads what the others say.
        using var stopSending = new CancellationTokenSource();
        Task sender = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; !stopSending.IsCancellationRequested; i++)
                {
                    client.Socket.Send(Encoding.ASCII.GetBytes($"{i} {new string('x', i % 200)} end\n"));
                    stopSending.Token.WaitHandle.WaitOne(3);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            for (string? line = client.ReadLine(); line is not null; line = client.ReadLine())
            {
                if (line.StartsWith("* ", StringComparison.Ordinal))
                {
                    continue; // joins and leaves
                }

                // "cN: I xxx end": whole lines, never cut or mixed with another.
                string[] parts = line.Split(' ');
                parts.Should().HaveCount(4, $"'{line}' is one whole chat line");
                parts[0].Should().MatchRegex(@"^c\d+:$");
                parts[2].Should().Be(new string('x', int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) % 200));
                parts[3].Should().Be("end");
                client.Exchanged();
            }
        }
        finally
        {
            stopSending.Cancel();
            sender.Wait(Wait.Generous);
        }
    }
}

/// <summary>A loopback client on a thread of its own, running a conversation until the server ends the stream.</summary>
public sealed class LoadClient : IDisposable
{
    private readonly LineClient _lines;
    private int _exchanges;

    private LoadClient(Socket socket, int index)
    {
        _lines = new LineClient(socket);
        Index = index;
    }

    public Socket Socket => _lines.Socket;

    public int Index { get; }

    public int Exchanges => Volatile.Read(ref _exchanges);

    /// <summary>
    /// Completes when the server has ended the stream and the conversation checked out: with "FIN" for an orderly end
    /// of stream, or the failure (a reset shows as a SocketException).
    /// </summary>
    public Task<string> Outcome { get; private set; } = Task.FromResult("not started");

    public static LoadClient Start(int port, int index, Action<LoadClient> conversation)
    {
        Socket socket = Loopback.Connect(port);
        var client = new LoadClient(socket, index);
        client.Outcome = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    conversation(client);
                    return "FIN";
                }
                catch (Exception e)
                {
                    return $"client {index} failed after {client.Exchanges} exchanges: {e.GetType().Name}: {e.Message}";
                }
                finally
                {
                    socket.Dispose(); // our own end of stream, which lets the server's graceful close finish
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return client;
    }

    public void Exchanged() => Interlocked.Increment(ref _exchanges);

    /// <summary>Receives until <paramref name="count"/> bytes or end of stream; returns how many came.</summary>
    public int ReceiveUpTo(byte[] buffer, int count)
    {
        int got = 0;
        while (got < count)
        {
            int n = Socket.Receive(buffer, got, count - got, SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            got += n;
        }

        return got;
    }

    /// <summary>The next line without its newline, or null at end of stream (a partial last line counts as none).</summary>
    public string? ReadLine() => _lines.ReadLine();

    public void Dispose() => Socket.Dispose();
}

/// <summary>Runs a sample under load and stops it with a signal, measuring the way the stop went.</summary>
internal static class SampleStop
{
    public static (int? Exit, TimeSpan Took, string[] Outcomes, string Stderr) UnderLoad(ServerSample sample, int signal, int clients)
    {
        using SampleProcess process = SampleProcess.StartSample(sample.Name, sample.Arguments);
        int port = SampleProcess.PortIn(process.WaitFirstLine());
        var load = new List<LoadClient>();

        // A straggler: connected, never reading, never closing. The stop must not wait for it past its deadline.
        using var straggler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        straggler.Connect(new IPEndPoint(IPAddress.Loopback, port));
        try
        {
            for (int i = 0; i < clients; i++)
            {
                load.Add(sample.StartClient(port, i));
            }

            // Loaded: every client is in the middle of its conversation.
            Wait.Until(() => load.All(c => c.Exchanges >= 20 || c.Outcome.IsCompleted), "every client has exchanged 20 times");
            var clock = Stopwatch.StartNew();
            process.Signal(signal);
            int? exit = process.WaitExit(TimeSpan.FromSeconds(10));
            TimeSpan took = clock.Elapsed;
            Task.WaitAll(load.Select(c => c.Outcome).ToArray(), Wait.Generous).Should().BeTrue("every client sees its stream end");
            return (exit, took, load.Select(c => c.Outcome.Result).ToArray(), process.Stderr);
        }
        finally
        {
            load.ForEach(c => c.Dispose());
        }
    }
}
