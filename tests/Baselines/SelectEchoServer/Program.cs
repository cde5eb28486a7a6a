using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

// Baseline: a plain hand-written Socket.Select loop, no library: what SelectReactor replaces. One thread; a
// Dictionary maps each socket to its unsent bytes; a socket with unsent bytes is watched for writing instead of
// reading (backpressure); one shared 64 KiB read buffer. Same command line as samples/EchoServer: --host, --port
// (0 picks a free port); prints exactly one line "listening on HOST:PORT"; exits 0 on SIGTERM or Ctrl+C.
const string Usage = "usage: SelectEchoServer [--host 127.0.0.1] [--port 7007]";
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
listener.Blocking = false;
Console.WriteLine($"listening on {listener.LocalEndPoint}");

int stopping = 0;
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

var connections = new Dictionary<Socket, Unsent>();
var read = new List<Socket>();
var write = new List<Socket>();
byte[] buffer = new byte[64 * 1024];

while (Volatile.Read(ref stopping) == 0)
{
    read.Clear();
    write.Clear();
    read.Add(listener);
    foreach (KeyValuePair<Socket, Unsent> entry in connections)
    {
        (entry.Value.Count == 0 ? read : write).Add(entry.Key);
    }

    // At most 200 ms, so that a signal is noticed without a wake-up socket.
    Socket.Select(read, write, null, 200_000);

    foreach (Socket socket in write)
    {
        Flush(socket, connections[socket]);
    }

    foreach (Socket socket in read)
    {
        if (socket == listener)
        {
            AcceptBatch();
        }
        else
        {
            Echo(socket);
        }
    }
}

foreach (Socket socket in connections.Keys)
{
    socket.Dispose();
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    Volatile.Write(ref stopping, 1);
}

void AcceptBatch()
{
    for (int i = 0; i < 64; i++)
    {
        Socket client;
        try
        {
            client = listener.Accept();
        }
        catch (SocketException)
        {
            return; // expected: the backlog is empty (WouldBlock), or the client gave up
        }

        client.Blocking = false;
        client.NoDelay = true;
        connections.Add(client, new Unsent());
    }
}

void Echo(Socket socket)
{
    int n = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
    if (error == SocketError.WouldBlock)
    {
        return;
    }

    if (n == 0 || error != SocketError.Success)
    {
        Drop(socket); // end of stream or an error: this echo has nothing left to send
        return;
    }

    int sent = socket.Send(buffer, 0, n, SocketFlags.None, out error);
    if (error == SocketError.WouldBlock)
    {
        sent = 0;
    }
    else if (error != SocketError.Success)
    {
        Drop(socket);
        return;
    }

    if (sent < n)
    {
        connections[socket].Keep(buffer.AsSpan(sent, n - sent));
    }
}

void Flush(Socket socket, Unsent unsent)
{
    int sent = socket.Send(unsent.Bytes, unsent.Offset, unsent.Count, SocketFlags.None, out SocketError error);
    if (error == SocketError.WouldBlock)
    {
        return;
    }

    if (error != SocketError.Success)
    {
        Drop(socket);
        return;
    }

    unsent.Consume(sent);
}

void Drop(Socket socket)
{
    connections.Remove(socket);
    socket.Dispose();
}

/// <summary>Bytes read but not yet sent back, for one connection.</summary>
internal sealed class Unsent
{
    public byte[] Bytes { get; private set; } = Array.Empty<byte>();

    public int Offset { get; private set; }

    public int Count { get; private set; }

    public void Keep(ReadOnlySpan<byte> data)
    {
        if (Bytes.Length < data.Length)
        {
            Bytes = new byte[data.Length];
        }

        data.CopyTo(Bytes);
        Offset = 0;
        Count = data.Length;
    }

    public void Consume(int sent)
    {
        Offset += sent;
        Count -= sent;
    }
}
