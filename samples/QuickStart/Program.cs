using System.Globalization;
using System.Net;
using System.Text;
using SelectReactor;
using SelectReactor.Net;

int port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7008;
using var reactor = new Reactor();
using var server = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, port), () => new UpperCaseHandler());
server.Start();
Console.WriteLine($"upper-casing lines on {server.LocalEndPoint}; Ctrl+C stops");
Console.CancelKeyPress += (_, e) => { e.Cancel = true; reactor.Stop(); };
reactor.Run();

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
