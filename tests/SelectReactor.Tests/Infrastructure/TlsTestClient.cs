using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>A blocking .NET <see cref="SslStream"/> client on loopback, with the suite's generous timeouts and linger 0.</summary>
internal sealed class TlsTestClient : IDisposable
{
    private TlsTestClient(Socket socket, Stream inner, SslStream ssl)
    {
        Socket = socket;
        Inner = inner;
        Ssl = ssl;
    }

    public Socket Socket { get; }

    /// <summary>What the SslStream writes to: the socket's stream, or a buffer in front of it.</summary>
    public Stream Inner { get; }

    public SslStream Ssl { get; }

    /// <summary>Connects and completes the handshake (throws what the handshake throws).</summary>
    /// <param name="bufferWrites">Put a 64 KiB buffer between the SslStream and the socket, so several records leave in one send (on <see cref="FlushWrites"/>).</param>
    public static TlsTestClient Connect(EndPoint endPoint, SslClientAuthenticationOptions options, bool bufferWrites = false)
    {
        Socket socket = Loopback.Connect(endPoint, resetOnDispose: true);
        Stream inner = new NetworkStream(socket, ownsSocket: false);
        if (bufferWrites)
        {
            inner = new BufferedStream(inner, 64 * 1024);
        }

        var ssl = new SslStream(inner, leaveInnerStreamOpen: true); // the socket's own timeouts bound every read and write
        try
        {
            ssl.AuthenticateAsClient(options);
        }
        catch
        {
            ssl.Dispose();
            socket.Dispose();
            throw;
        }

        return new TlsTestClient(socket, inner, ssl);
    }

    public void Send(ReadOnlySpan<byte> data)
    {
        Ssl.Write(data);
        Ssl.Flush();
    }

    public void FlushWrites() => Inner.Flush();

    public byte[] ReadExactly(int count)
    {
        byte[] buffer = new byte[count];
        Ssl.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>Reads plaintext until the server's close_notify (or FIN); returns it.</summary>
    public byte[] ReadToEnd()
    {
        using var all = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = Ssl.Read(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    public void Dispose()
    {
        Ssl.Dispose();
        Inner.Dispose();
        Socket.Dispose();
    }
}
