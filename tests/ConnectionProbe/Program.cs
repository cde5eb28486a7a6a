using System;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;
using SelectReactor;
using SelectReactor.Net;

// A small server for measuring connections (not a sample: it exists for the scripts beside it).
//
//   ConnectionProbe lines [options]   answers each request line with "+PONG\r\n", one Send per reply, as a pipelining
//                                     server does (strace-batch.sh counts the send calls)
//   ConnectionProbe echo [options]    echoes, with settable limits (memory.sh measures what non-readers pin)
//   ConnectionProbe pingpong-self [--conns N] [--rounds N] [--size N]
//                                     an echo server and blocking ping-pong clients in one process; prints the
//                                     reactor thread's own user and system CPU per message (cpu.sh compares builds)
//
// Options: --port N (default 0), --max-connections N, --high-watermark BYTES, --low-watermark BYTES,
// --max-pending BYTES, --budget BYTES (server-wide; ignored by builds without one), --report (every second, to
// stderr: connections and pending output), --until-stdin-closes (stop at end of stdin instead of SIGTERM/SIGINT).
// Prints "listening on HOST:PORT". Only public API, set by reflection where a newer one is optional, so the same
// program builds against older trees for before/after comparisons.
if (args.Length == 0 || args[0] is not ("lines" or "echo" or "pingpong-self"))
{
    Console.Error.WriteLine("usage: ConnectionProbe lines|echo|pingpong-self [--port N] [--max-connections N] [--high-watermark B] [--low-watermark B] [--max-pending B] [--budget B] [--report] [--until-stdin-closes] [--conns N] [--rounds N] [--size N]");
    return 2;
}

if (args[0] == "pingpong-self")
{
    return SelfPingPong.Run(args);
}

bool lines = args[0] == "lines";
int port = 0;
bool report = false;
bool untilStdinCloses = false;
var options = new TcpServerOptions { MaxConnections = 20_000 };
for (int i = 1; i < args.Length; i++)
{
    string name = args[i];
    switch (name)
    {
        case "--report":
            report = true;
            continue;
        case "--until-stdin-closes":
            untilStdinCloses = true;
            continue;
    }

    if (i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"{name} needs a value");
        return 2;
    }

    long value = long.Parse(args[++i], CultureInfo.InvariantCulture);
    switch (name)
    {
        case "--port": port = (int)value; break;
        case "--max-connections": options.MaxConnections = (int)value; break;
        case "--high-watermark": options.Connection.SendHighWatermark = value; break;
        case "--low-watermark": options.Connection.SendLowWatermark = value; break;
        case "--max-pending": options.Connection.MaxPendingSendBytes = value; break;
        case "--budget": typeof(TcpServerOptions).GetProperty("MaxPendingSendBytesTotal")?.SetValue(options, value); break;
        default:
            Console.Error.WriteLine($"unknown option {name}");
            return 2;
    }
}

using var reactor = new Reactor();
using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, port), () => lines ? new PongHandler() : new EchoHandler(), options);
server.Start();
var stop = new ManualResetEventSlim();
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
var loop = new Thread(() => reactor.Run()) { Name = "reactor" };
loop.Start();
Console.WriteLine($"listening on {server.LocalEndPoint}");
if (untilStdinCloses)
{
    new Thread(() =>
    {
        Console.In.ReadToEnd();
        stop.Set();
    }) { IsBackground = true }.Start();
}

PropertyInfo? pending = typeof(TcpServer).GetProperty("PendingSendBytes");
while (!stop.Wait(TimeSpan.FromSeconds(1)))
{
    if (report)
    {
        Console.Error.WriteLine($"connections={server.ConnectionCount} pending={pending?.GetValue(server) ?? "n/a"}");
    }
}

reactor.Stop();
loop.Join();
return 0;

/// <summary>Answers each line with "+PONG\r\n", one Send per reply.</summary>
internal sealed class PongHandler : ConnectionHandler
{
    private static readonly byte[] Pong = "+PONG\r\n"u8.ToArray();

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            if (b == (byte)'\n')
            {
                connection.Send(Pong);
            }
        }
    }
}

/// <summary>Echoes; the connection stops reading by itself above the high watermark.</summary>
internal sealed class EchoHandler : ConnectionHandler
{
    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data) => connection.Send(data);
}

/// <summary>
/// Server and clients in one process: the reactor thread does all the server's work, so its own CPU time (from
/// /proc/self/task/TID/stat) per message is the server's cost, whatever else the machine is doing.
/// </summary>
internal static class SelfPingPong
{
    public static int Run(string[] args)
    {
        int conns = 50, rounds = 20_000, size = 64;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--conns": conns = value; break;
                case "--rounds": rounds = value; break;
                case "--size": size = value; break;
            }
        }

        using var reactor = new Reactor();
        using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new EchoHandler());
        server.Start();
        int tid = 0;
        var loop = new Thread(() =>
        {
            tid = Gettid();
            reactor.Run();
        }) { Name = "reactor" };
        loop.Start();
        var clients = new System.Net.Sockets.Socket[conns];
        for (int i = 0; i < conns; i++)
        {
            clients[i] = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            clients[i].Connect(server.LocalEndPoint!);
        }

        byte[] message = new byte[size];
        byte[] reply = new byte[size];
        PingPong(clients, message, reply, Math.Max(1, rounds / 10)); // warm-up
        (long user0, long sys0) = ThreadTicks(tid);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PingPong(clients, message, reply, rounds);
        double wall = clock.Elapsed.TotalMicroseconds;
        (long user1, long sys1) = ThreadTicks(tid);
        double messages = (double)rounds * conns;
        double tick = 1_000_000.0 / 100; // USER_HZ: 100 ticks per second on Linux
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"messages={messages} reactor_user_us_per_msg={(user1 - user0) * tick / messages:F3} reactor_sys_us_per_msg={(sys1 - sys0) * tick / messages:F3} wall_us_per_msg={wall / messages:F3}"));
        foreach (var client in clients)
        {
            client.Dispose();
        }

        reactor.Stop();
        loop.Join();
        return 0;
    }

    private static void PingPong(System.Net.Sockets.Socket[] clients, byte[] message, byte[] reply, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (var client in clients)
            {
                client.Send(message);
            }

            foreach (var client in clients)
            {
                for (int got = 0; got < reply.Length;)
                {
                    got += client.Receive(reply, got, reply.Length - got, System.Net.Sockets.SocketFlags.None);
                }
            }
        }
    }

    private static (long User, long System) ThreadTicks(int tid)
    {
        string stat = System.IO.File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture), long.Parse(fields[12], CultureInfo.InvariantCulture));
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int Gettid();
}

