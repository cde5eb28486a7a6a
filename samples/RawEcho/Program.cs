using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SelectReactor;

using var reactor = new Reactor();
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Loopback, args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7007));
listener.Listen();
var buffer = new byte[4096];

reactor.Register(listener, Interest.Read, onReadable: _ =>
{
    Socket client = listener.Accept();
    reactor.Register(client, Interest.Read, onReadable: r =>
    {
        int n = r.Socket.Receive(buffer, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock) return;
        if (n > 0) { r.Socket.Send(buffer, 0, n, SocketFlags.None); return; }
        r.Dispose();        // end of stream or error: unregister, then close
        r.Socket.Dispose();
    });
});

Console.WriteLine($"echoing on {listener.LocalEndPoint}; Ctrl+C stops");
Console.CancelKeyPress += (_, e) => { e.Cancel = true; reactor.Stop(); };
reactor.Run();
