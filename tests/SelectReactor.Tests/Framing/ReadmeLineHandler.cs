using System;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Net;

namespace SelectReactor.Tests.Framing;

/// <summary>A line protocol: "upper TEXT" answers at once, "lookup KEY" awaits a slow store first.</summary>
internal sealed class LineHandler(Func<string, Task<string>> lookup) : FramedConnectionHandler(FrameDecoder.Lines(maxLineLength: 1024))
{
    protected override ValueTask OnFrame(TcpConnection connection, ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("upper "u8))
        {
            connection.Send(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(line[6..]).ToUpperInvariant() + "\n"));
            return default; // handled: the next line follows at once
        }

        if (line.StartsWith("lookup "u8))
        {
            return Lookup(connection, Encoding.ASCII.GetString(line[7..])); // copy what the await must outlive
        }

        connection.Send("unknown command\n"u8);
        return default;
    }

    private async ValueTask Lookup(TcpConnection connection, string key)
    {
        string value = await lookup(key); // reading pauses; lines already received wait their turn
        connection.Send(Encoding.ASCII.GetBytes(value + "\n")); // back on the reactor thread
    }

    protected override void OnFrameTooLarge(TcpConnection connection) => connection.Send("line too long\n"u8);
}
