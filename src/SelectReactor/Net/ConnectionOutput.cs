using System;
using System.Buffers;

namespace SelectReactor.Net;

/// <summary><see cref="TcpConnection.Output"/>: writes in place into the connection's output. Reactor thread only.</summary>
internal sealed class ConnectionOutput(TcpConnection connection) : IBufferWriter<byte>
{
    public void Advance(int count) => connection.CommitOutput(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => connection.GetOutputMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => connection.GetOutputSpan(sizeHint);
}
