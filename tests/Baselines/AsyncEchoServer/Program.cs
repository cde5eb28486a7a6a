using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

// Baseline: an echo server the way a C# developer writes one without SelectReactor. async/await over
// Socket.ReceiveAsync/SendAsync with Memory<byte>, one task per connection, a 16 KiB buffer per connection.
// The runtime's SocketAsyncEngine (epoll on Linux, with its own I/O threads) does the waiting.
// Same command line as samples/EchoServer: --host, --port (0 picks a free port); prints exactly one line
// "listening on HOST:PORT"; exits 0 on SIGTERM or Ctrl+C.
const string Usage = "usage: AsyncEchoServer [--host 127.0.0.1] [--port 7007]";
string host = "127.0.0.1";
int port = 7007;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--help" or "-h")
    {
        Console.WriteLine(Usage);
        return 0;
    }

    if (i + 1 < args.Length && args[i] == "--host" && IPAddress.TryParse(args[i + 1], out _))
    {
        host = args[++i];
    }
    else if (i + 1 < args.Length && args[i] == "--port" && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535)
    {
        i++;
    }
    else
    {
        Console.Error.WriteLine($"error: bad option or value: {args[i]}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}

using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Parse(host), port));
listener.Listen(4096);
Console.WriteLine($"listening on {listener.LocalEndPoint}");

using var stop = new CancellationTokenSource();
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

try
{
    while (true)
    {
        Socket client = await listener.AcceptAsync(stop.Token);
        client.NoDelay = true;
        _ = EchoAsync(client, stop.Token);
    }
}
catch (OperationCanceledException)
{
    // SIGTERM or Ctrl+C: stop accepting; open connections end with the process.
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static async Task EchoAsync(Socket client, CancellationToken cancellationToken)
{
    using (client)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    client.Shutdown(SocketShutdown.Send); // the peer ended its stream: end ours
                    return;
                }

                // On a stream socket SendAsync completes only when every byte is sent, which is the backpressure.
                await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Expected: the peer reset, or the server is stopping. The connection is over either way.
        }
    }
}
