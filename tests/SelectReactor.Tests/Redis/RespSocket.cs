using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Redis;

/// <summary>A raw RESP2 client for exact-byte tests: sends requests as given, reads whole replies back as text.</summary>
internal sealed class RespSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public RespSocket(int port) => _socket = Loopback.Connect(port);

    public Socket Socket => _socket;

    /// <summary>A command as a multibulk request.</summary>
    public static byte[] Command(params string[] parts) => Command(parts.Select(Encoding.UTF8.GetBytes).ToArray());

    public static byte[] Command(params byte[][] parts)
    {
        var request = new MemoryStream();
        request.Write(Encoding.ASCII.GetBytes($"*{parts.Length}\r\n"));
        foreach (byte[] part in parts)
        {
            request.Write(Encoding.ASCII.GetBytes($"${part.Length}\r\n"));
            request.Write(part);
            request.Write("\r\n"u8);
        }

        return request.ToArray();
    }

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void Send(string text) => _socket.Send(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one command and returns its whole reply, exactly as received.</summary>
    public string Call(params string[] parts)
    {
        Send(Command(parts));
        return ReadReply();
    }

    /// <summary>One whole reply (nested arrays included), as text with its CRLFs.</summary>
    public string ReadReply()
    {
        var reply = new List<byte>();
        ReadValue(reply);
        return Encoding.UTF8.GetString(reply.ToArray());
    }

    /// <summary>One whole reply, as bytes.</summary>
    public byte[] ReadReplyBytes()
    {
        var reply = new List<byte>();
        ReadValue(reply);
        return reply.ToArray();
    }

    /// <summary>Everything until the server closes the connection, as text.</summary>
    public string ReadToEnd()
    {
        var rest = new List<byte>(_buffer[_start.._end]);
        _start = _end = 0;
        while (true)
        {
            int n = _socket.Receive(_buffer, 0, _buffer.Length, SocketFlags.None, out SocketError error);
            if (n <= 0 || error != SocketError.Success)
            {
                return Encoding.UTF8.GetString(rest.ToArray());
            }

            rest.AddRange(_buffer[..n]);
        }
    }

    public void Dispose() => _socket.Dispose();

    private void ReadValue(List<byte> reply)
    {
        string line = ReadLine(reply);
        long n = line.Length > 1 && long.TryParse(line[1..], out long parsed) ? parsed : 0;
        switch (line[0])
        {
            case '$' when n >= 0:
                for (long i = 0; i < n + 2; i++)
                {
                    reply.Add(ReadByte());
                }

                break;
            case '*':
                for (long i = 0; i < n; i++)
                {
                    ReadValue(reply);
                }

                break;
        }
    }

    private string ReadLine(List<byte> reply)
    {
        int from = reply.Count;
        while (reply.Count < from + 2 || reply[^2] != (byte)'\r' || reply[^1] != (byte)'\n')
        {
            reply.Add(ReadByte());
        }

        return Encoding.UTF8.GetString(reply.GetRange(from, reply.Count - from - 2).ToArray());
    }

    private byte ReadByte()
    {
        if (_start == _end)
        {
            _start = 0;
            _end = _socket.Receive(_buffer);
            if (_end == 0)
            {
                throw new InvalidOperationException("the server closed the connection");
            }
        }

        return _buffer[_start++];
    }
}
