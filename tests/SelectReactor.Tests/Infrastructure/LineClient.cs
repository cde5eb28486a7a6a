using System;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>
/// A blocking loopback client for line protocols (the chat and quick-start samples), with the suite's generous timeouts:
/// a missing line fails a test instead of hanging it.
/// </summary>
internal sealed class LineClient : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public LineClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    /// <summary>Connects; a small <paramref name="receiveBufferSize"/> makes a client whose window fills soon.</summary>
    public static LineClient Connect(EndPoint endPoint, int? receiveBufferSize = null) =>
        new(Loopback.Connect(endPoint, receiveBufferSize: receiveBufferSize));

    /// <summary>Sends <paramref name="line"/> and a newline.</summary>
    public LineClient Send(string line)
    {
        SendRaw(Encoding.UTF8.GetBytes(line + "\n"));
        return this;
    }

    public void SendRaw(byte[] bytes) => Socket.Send(bytes);

    /// <summary>The next line without its newline, or null at end of stream (a partial last line counts as none).</summary>
    public string? ReadLine()
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, newline - _start);
                _start = newline + 1;
                return line;
            }

            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
            int n = Socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            if (n == 0)
            {
                return null;
            }

            _end += n;
        }
    }

    /// <summary>Reads until <paramref name="line"/> has come; the stream must not end first.</summary>
    public void SkipUntil(string line)
    {
        for (string? next = ReadLine(); next != line; next = ReadLine())
        {
            next.Should().NotBeNull($"'{line}' comes before the end of stream");
        }
    }

    /// <summary>Ends the stream, reads what the server still says until it ends its own, and closes.</summary>
    public void Leave()
    {
        Socket.Shutdown(SocketShutdown.Send);
        while (ReadLine() is not null)
        {
        }

        Socket.Dispose();
    }

    /// <summary>Closes with a reset.</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Dispose();
    }

    public void Dispose() => Socket.Dispose();
}
