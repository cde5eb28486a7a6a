using System;
using System.Buffers;
using System.Threading.Tasks;
using SelectReactor.Net;

namespace RedisServer;

/// <summary>
/// One client: parses RESP2 requests (multibulk, and inline commands typed into telnet or nc), runs each command,
/// and writes its reply in place into <see cref="TcpConnection.Output"/>. Everything written during one callback
/// leaves in one send as the callback returns, so a pipeline of sixteen requests is answered with one system call.
/// The limits and the protocol error texts are Redis's (src/networking.c): a malformed request gets
/// "-ERR Protocol error: ..." and only this connection closes. Declared lengths are checked before anything is
/// allocated for them.
/// </summary>
internal sealed class RespConnection : ParsingConnectionHandler
{
    /// <summary>PROTO_INLINE_MAX_SIZE: the longest inline request, and the longest count line.</summary>
    public const int MaxInlineSize = 64 * 1024;

    /// <summary>proto-max-bulk-len's default: the longest bulk string a request may declare.</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    /// <summary>client-query-buffer-limit's default: more than this pending for one request closes the client.</summary>
    public const int MaxQueryBuffer = 1024 * 1024 * 1024;

    private readonly ServerState _server;

    // Where each argument is, as offset and length pairs relative to the start of the request. It grows with the
    // arguments actually received, never with the count a request declares.
    private int[] _ranges = new int[16];

    // A multibulk request that has not fully arrived: how many arguments it declared, how many are parsed, and
    // where parsing resumes (relative to the start of the request, which the base presents again at offset 0).
    private int _declared;
    private int _parsed;
    private int _resumeAt;

    public RespConnection(ServerState server)
        : base(MaxQueryBuffer)
    {
        _server = server;
    }

    public string? Name { get; set; }

    public TcpConnection? Connection { get; private set; }

    public ServerState Server => _server;

    /// <summary>Where replies are written, in place: the connection's own output.</summary>
    public IBufferWriter<byte> Output => Connection!.Output;

    public override void OnConnected(TcpConnection connection)
    {
        Connection = connection;
        _server.ConnectedClients++;
    }

    /// <summary>Runs <paramref name="work"/> before the next request (DEBUG SLEEP); replies so far leave as this callback returns.</summary>
    public void Await(ValueTask work) => SuspendUntil(work);

    protected override int Parse(TcpConnection connection, ReadOnlySpan<byte> buffered)
    {
        int consumed = 0;
        while (consumed < buffered.Length && connection.IsOpen && !IsSuspended)
        {
            ReadOnlySpan<byte> request = buffered[consumed..];
            string? error;
            int length;
            int count;
            ReadOnlySpan<byte> source;
            if (request[0] == (byte)'*')
            {
                length = ParseMultibulk(request, out count, out error);
                source = request;
            }
            else
            {
                length = ParseInline(request, out count, out error);
                source = _server.InlineScratch;
            }

            if (error is not null)
            {
                Resp.Error(Output, "ERR Protocol error: " + error); // sent before the connection closes
                CloseForProtocolError(connection, error);
                return consumed;
            }

            if (length == 0)
            {
                break; // the rest of the request has not arrived yet
            }

            consumed += length;
            _declared = _parsed = _resumeAt = 0;
            if (count > 0)
            {
                _server.CommandsProcessed++;
                Commands.Execute(this, new Arguments(source, _ranges, count));
            }
        }

        return consumed;
    }

    protected override void OnConnectionClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        _server.ConnectedClients--;
    }

    /// <summary>"*N\r\n" then N times "$len\r\n" bytes "\r\n". Returns the request's length, or 0 until it is whole.</summary>
    private int ParseMultibulk(ReadOnlySpan<byte> request, out int count, out string? error)
    {
        count = 0;
        error = null;
        int at = _resumeAt;
        if (_declared == 0)
        {
            if (!TryReadLine(request, out int lineEnd, "too big mbulk count string", out error))
            {
                return 0;
            }

            if (!Arguments.TryParseInteger(request[1..lineEnd], out long declared) || declared > int.MaxValue)
            {
                error = "invalid multibulk length";
                return 0;
            }

            at = lineEnd + 2;
            if (declared <= 0)
            {
                return at; // an empty request: consumed, nothing to run
            }

            _declared = (int)declared;
        }

        while (_parsed < _declared)
        {
            ReadOnlySpan<byte> rest = request[at..];
            if (rest.IsEmpty)
            {
                break;
            }

            if (rest[0] != (byte)'$')
            {
                error = $"expected '$', got '{(char)rest[0]}'";
                return 0;
            }

            if (!TryReadLine(rest, out int lineEnd, "too big bulk count string", out error))
            {
                break;
            }

            if (!Arguments.TryParseInteger(rest[1..lineEnd], out long length) || length < 0 || length > MaxBulkLength)
            {
                error = "invalid bulk length";
                return 0;
            }

            int start = lineEnd + 2;
            if (rest.Length - start < length + 2)
            {
                break; // the bulk is still arriving; its header is parsed again next time, which is cheap
            }

            AddRange(_parsed++, at + start, (int)length);
            at += start + (int)length + 2;
        }

        _resumeAt = at;
        if (_parsed < _declared)
        {
            return 0;
        }

        count = _parsed;
        return at;
    }

    /// <summary>A line of words, as Redis's sdssplitargs splits them (quotes and escapes included).</summary>
    private int ParseInline(ReadOnlySpan<byte> request, out int count, out string? error)
    {
        count = 0;
        error = null;
        int newline = request[..Math.Min(request.Length, MaxInlineSize + 1)].IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (request.Length > MaxInlineSize)
            {
                error = "too big inline request";
            }

            return 0;
        }

        ReadOnlySpan<byte> line = request[..newline];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (!InlineSplitter.Split(line, _server.InlineScratch, ref _ranges, out count))
        {
            error = "unbalanced quotes in request";
            return 0;
        }

        return newline + 1;
    }

    /// <summary>Finds the CR ending a count line (Redis looks for CR, then needs one byte after it for the LF).</summary>
    private static bool TryReadLine(ReadOnlySpan<byte> text, out int lineEnd, string tooBig, out string? error)
    {
        error = null;
        lineEnd = text[..Math.Min(text.Length, MaxInlineSize + 1)].IndexOf((byte)'\r');
        if (lineEnd < 0)
        {
            if (text.Length > MaxInlineSize)
            {
                error = tooBig;
            }

            return false;
        }

        return lineEnd + 1 < text.Length;
    }

    private void AddRange(int index, int offset, int length)
    {
        if ((2 * index) + 1 >= _ranges.Length)
        {
            Array.Resize(ref _ranges, _ranges.Length * 2);
        }

        _ranges[2 * index] = offset;
        _ranges[(2 * index) + 1] = length;
    }
}
