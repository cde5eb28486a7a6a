using System;
using System.Text;
using Microsoft.Extensions.Logging;
using SelectReactor.Net;

namespace ChatServer;

/// <summary>
/// One chat client: the first line is its nickname, every later line goes to everyone else as "nick: text".
/// Made per connection by the host (through dependency injection), so it keeps that connection's state.
/// </summary>
internal sealed class ChatHandler(ChatRoom room, ChatOptions options, ILogger<ChatHandler> logger) : ConnectionHandler
{
    private const int MaxNickLength = 32;

    // The line read so far; one byte of slack for the '\r' of a "\r\n" line ending.
    private readonly byte[] _line = new byte[options.MaxLineLength + 1];
    private int _length;
    private TcpConnection? _connection;
    private string? _nick;

    public override void OnConnected(TcpConnection connection)
    {
        _connection = connection;
        connection.Send("* hello; send your nickname\n"u8);
    }

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty && connection.IsOpen)
        {
            int newline = data.IndexOf((byte)'\n');
            ReadOnlySpan<byte> part = newline < 0 ? data : data[..newline];
            if (_length + part.Length > _line.Length)
            {
                // Refused as soon as it is too long, not when (if ever) its newline comes.
                Kick(connection, $"error: line longer than {options.MaxLineLength} bytes; closing\n", "line too long");
                return;
            }

            part.CopyTo(_line.AsSpan(_length));
            _length += part.Length;
            if (newline < 0)
            {
                if (_length == _line.Length && _line[^1] != (byte)'\r')
                {
                    // The slack byte is taken and is not the '\r' of a "\r\n": too long already.
                    Kick(connection, $"error: line longer than {options.MaxLineLength} bytes; closing\n", "line too long");
                }

                return;
            }

            data = data[(newline + 1)..];
            ReadOnlySpan<byte> line = _line.AsSpan(0, _length);
            _length = 0;
            if (line.EndsWith("\r"u8))
            {
                line = line[..^1];
            }

            if (line.Length > options.MaxLineLength)
            {
                Kick(connection, $"error: line longer than {options.MaxLineLength} bytes; closing\n", "line too long");
                return;
            }

            OnLine(connection, line);
        }
    }

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        if (_nick is null)
        {
            return;
        }

        string? why = null;
        if (reason == ConnectionCloseReason.SendBufferOverflow)
        {
            why = "too slow";
            ChatLog.SlowConsumer(logger, _nick, options.MaxPendingBytes);
        }

        room.Leave(_nick, why);
        ChatLog.Left(logger, _nick, reason);
    }

    /// <summary>Sends to this client; the room calls it for broadcasts. Reactor thread only.</summary>
    public void Send(ReadOnlySpan<byte> message) => _connection?.Send(message);

    public void Send(string message) => Send(Encoding.UTF8.GetBytes(message));

    private void OnLine(TcpConnection connection, ReadOnlySpan<byte> line)
    {
        if (_nick is not null)
        {
            if (!line.IsEmpty)
            {
                room.Say(this, _nick, line);
            }

            return;
        }

        if (!IsValidNick(line))
        {
            connection.Send(Encoding.ASCII.GetBytes($"error: a nickname is 1 to {MaxNickLength} letters, digits, '_' or '-'\n"));
            return;
        }

        string nick = Encoding.ASCII.GetString(line);
        if (!room.TryJoin(this, nick))
        {
            connection.Send(Encoding.ASCII.GetBytes($"error: nickname '{nick}' is taken\n"));
            return;
        }

        _nick = nick;
        if (logger.IsEnabled(LogLevel.Information))
        {
            string remote = connection.RemoteEndPoint?.ToString() ?? "?"; // built only when logged (CA1873)
            ChatLog.Joined(logger, nick, remote, room.Count);
        }
    }

    private void Kick(TcpConnection connection, string error, string why)
    {
        connection.Send(Encoding.ASCII.GetBytes(error));
        connection.Close(); // sends the error line first; input from now on is discarded
        ChatLog.Kicked(logger, _nick ?? "(no nickname yet)", why);
        if (_nick is not null)
        {
            // Out of the room now, not when the graceful close has finished (which waits for the client's FIN).
            room.Leave(_nick, why);
            _nick = null;
        }
    }

    private static bool IsValidNick(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || line.Length > MaxNickLength)
        {
            return false;
        }

        foreach (byte b in line)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'-'))
            {
                return false;
            }
        }

        return true;
    }
}
