using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SelectReactor;
using SelectReactor.Net;

if (args.Length > 1 || !ushort.TryParse(args.FirstOrDefault() ?? "7008", NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
{
    Console.Error.WriteLine($"error: bad arguments: {string.Join(' ', args)}\nusage: QuickStart [PORT]   (default 7008; 0 picks a free port)");
    return 2;
}

using var shutdown = new ShutdownSignal(TimeSpan.FromSeconds(3)); // from here, Ctrl+C and SIGTERM stop gracefully (3 s at most)
using var reactor = new Reactor();
using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, port), () => new UpperCaseHandler());
try { server.Start(); }
catch (SocketException e) { Console.Error.WriteLine($"error: {e.Message}"); return 1; } // names the end point
Console.WriteLine($"upper-casing lines on {server.LocalEndPoint}; Ctrl+C stops");
shutdown.Run(reactor, server.Stop); // the loop runs here; on a signal, every connection closes gracefully
return 0;

// One handler per connection, so it may keep state: here, the line read so far.
sealed class UpperCaseHandler : ConnectionHandler
{
    private readonly List<byte> _line = new();

    public override void OnConnected(TcpConnection connection) => connection.Send("hello; send lines, 'quit' ends\n"u8);

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            if (b != (byte)'\n') { _line.Add(b); continue; }
            string line = Encoding.UTF8.GetString(_line.ToArray()).TrimEnd('\r');
            _line.Clear();
            if (line == "quit") { connection.Close(); return; }
            connection.Send(Encoding.UTF8.GetBytes(line.ToUpperInvariant() + "\n"));
        }
    }
}
