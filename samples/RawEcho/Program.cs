using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SelectReactor;

if (args.Length > 1 || !ushort.TryParse(args.FirstOrDefault() ?? "7007", NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
{
    Console.Error.WriteLine($"error: bad arguments: {string.Join(' ', args)}\nusage: RawEcho [PORT]   (default 7007; 0 picks a free port)");
    return 2;
}

using var shutdown = new ShutdownSignal(TimeSpan.FromSeconds(3)); // from here, Ctrl+C and SIGTERM stop gracefully (3 s at most)
using var reactor = new Reactor();
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
var endPoint = new IPEndPoint(IPAddress.Loopback, port);
try { listener.Bind(endPoint); listener.Listen(); }
catch (SocketException e) { Console.Error.WriteLine($"error: cannot listen on {endPoint}: {e.Message}"); return 1; }
var buffer = new byte[4096];
var clients = new HashSet<Socket>();

Registration accepting = reactor.Register(listener, Interest.Read, onReadable: _ =>
{
    Socket client = listener.Accept();
    clients.Add(client);
    reactor.Register(client, Interest.Read, onReadable: r =>
    {
        int n = r.Socket.Receive(buffer, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock) return;
        if (n > 0) { r.Socket.Send(buffer, 0, n, SocketFlags.None, out SocketError _); return; }
        r.Dispose();        // end of stream or error: unregister, then close
        r.Socket.Dispose();
        clients.Remove(r.Socket);
    });
});

Console.WriteLine($"echoing on {listener.LocalEndPoint}; Ctrl+C stops");
// On a signal: stop accepting and end every client's stream (FIN); each closes when the client ends its own.
shutdown.Run(reactor, () =>
{
    accepting.Dispose();
    listener.Dispose();
    foreach (Socket client in clients) { try { client.Shutdown(SocketShutdown.Send); } catch (SocketException) { } }
});
return 0;
