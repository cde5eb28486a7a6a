using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace SelectReactor.Net;

/// <summary>
/// The stream an <c>SslStream</c> sits on inside a <see cref="TlsLayer"/>: ciphertext the socket read is fed in, and
/// what the <c>SslStream</c> writes goes straight into the connection's transport queue. Every operation completes on
/// the reactor thread, inside the layer's own call, so a TLS connection needs no thread and no thread-pool hop.
/// </summary>
/// <remarks>
/// <para>
/// <b>Reads.</b> When ciphertext is buffered, <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> copies it and
/// completes synchronously. When none is, the read stays pending (this object is its
/// <see cref="IValueTaskSource{TResult}"/>, so pending costs no allocation) until <see cref="Feed"/> brings bytes or
/// <see cref="End"/> the end of the stream; then it completes and its continuation, the <c>SslStream</c>'s, runs
/// inline, right there, on the reactor thread. The continuation is always invoked inline: the only consumer is the
/// <c>SslStream</c>, which awaits with <c>ConfigureAwait(false)</c>, so there is no context to return to. Zero-byte
/// reads (which <c>SslStream</c> uses to wait for data before renting its buffer) complete when data is buffered.
/// </para>
/// <para>
/// <b>Writes</b> (sync or async) copy into the transport queue and complete at once; the bytes leave when the
/// connection flushes at the end of the callback. <b>Flush</b> does nothing for the same reason.
/// </para>
/// <para>
/// Buffered ciphertext lives in one array rented from the pool when bytes arrive that the <c>SslStream</c> has not
/// asked for yet, and returned as soon as it has taken them all: an idle connection holds none.
/// </para>
/// </remarks>
internal sealed class ReactorDuplexStream : Stream, IValueTaskSource<int>
{
    private static long s_offThreadCalls;

    private readonly Reactor _reactor;
    private readonly IConnectionLayerHost _host;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _ended;

    // The pending read, if any.
    private bool _pending;
    private bool _completed;
    private short _version;
    private int _result;
    private Memory<byte> _pendingBuffer;
    private Action<object?>? _continuation;
    private object? _continuationState;

    public ReactorDuplexStream(IConnectionLayerHost host)
    {
        _host = host;
        _reactor = host.Reactor;
    }

    /// <summary>Operations attempted off the reactor thread, process-wide (each was refused). Tests prove it stays 0.</summary>
    public static long OffThreadCalls => Interlocked.Read(ref s_offThreadCalls);

    /// <summary>Ciphertext received and not yet taken by the <c>SslStream</c>.</summary>
    public int Buffered => _end - _start;

    /// <summary><see langword="true"/> while the <c>SslStream</c> waits in a read for more ciphertext.</summary>
    public bool ReadPending => _pending;

    /// <summary>Arrays rented for buffered ciphertext (0 or 1), for tests of what a connection holds.</summary>
    public int RentedBuffers => _buffer is null ? 0 : 1;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Buffers ciphertext read from the socket and completes a pending read with it (running the reader's continuation inline).</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        EnsureReactorThread();
        if (data.IsEmpty || _ended)
        {
            return;
        }

        Append(data);
        CompletePending();
    }

    /// <summary>The peer's stream ended: a pending read completes with 0 (after whatever is still buffered).</summary>
    public void End()
    {
        _ended = true;
        CompletePending();
    }

    /// <summary>Returns the buffer, dropping what it holds. After the connection ended.</summary>
    public void Release()
    {
        _ended = true;
        _start = _end = 0;
        if (_buffer is not null)
        {
            BufferPool.Return(_buffer);
            _buffer = null;
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureReactorThread();
        if (_pending)
        {
            throw new InvalidOperationException("A read is already pending on this stream.");
        }

        if (Buffered > 0)
        {
            return new ValueTask<int>(Take(buffer.Span));
        }

        if (_ended)
        {
            return new ValueTask<int>(0);
        }

        _pending = true;
        _completed = false;
        _pendingBuffer = buffer;
        return new ValueTask<int>(this, _version);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Synchronous reads are served from what is buffered, never waited for: the reactor thread must not block.</summary>
    /// <exception cref="InvalidOperationException">Nothing is buffered and the stream has not ended.</exception>
    public override int Read(Span<byte> buffer)
    {
        EnsureReactorThread();
        if (Buffered > 0)
        {
            return Take(buffer);
        }

        return _ended ? 0 : throw new InvalidOperationException("A synchronous read found no data; on the reactor thread it must not wait.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureReactorThread();
        _host.WriteToTransport(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return default;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
        // The connection flushes its transport at the end of the callback.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token)
    {
        CheckToken(token);
        return _completed ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;
    }

    int IValueTaskSource<int>.GetResult(short token)
    {
        CheckToken(token);
        if (!_completed)
        {
            throw new InvalidOperationException("The read has not completed.");
        }

        _completed = false;
        _version++; // the token is spent
        return _result;
    }

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        CheckToken(token);
        if (_completed)
        {
            continuation(state); // completed in between: run it now, still on this thread
            return;
        }

        _continuation = continuation;
        _continuationState = state;
    }

    private void CompletePending()
    {
        if (!_pending || (Buffered == 0 && !_ended))
        {
            return;
        }

        int n = Buffered > 0 ? Take(_pendingBuffer.Span) : 0;
        _pending = false;
        _pendingBuffer = default;
        _result = n;
        _completed = true;
        Action<object?>? continuation = _continuation;
        object? state = _continuationState;
        _continuation = null;
        _continuationState = null;

        // Inline, on the reactor thread: the SslStream goes on (decrypts, completes its own operation) before Feed returns.
        continuation?.Invoke(state);
    }

    private int Take(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Buffered);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        if (_start == _end)
        {
            // All taken: an idle connection holds no buffer.
            BufferPool.Return(_buffer!);
            _buffer = null;
            _start = _end = 0;
        }

        return n;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_buffer is null)
        {
            _buffer = BufferPool.Rent(data.Length);
        }
        else if (_buffer.Length - _end < data.Length)
        {
            int buffered = Buffered;
            if (_buffer.Length - buffered >= data.Length)
            {
                _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            }
            else
            {
                byte[] bigger = BufferPool.Rent(buffered + data.Length);
                _buffer.AsSpan(_start, buffered).CopyTo(bigger);
                BufferPool.Return(_buffer);
                _buffer = bigger;
            }

            _start = 0;
            _end = buffered;
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    private void CheckToken(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException("The read's token is stale: a ValueTask was awaited twice.");
        }
    }

    private void EnsureReactorThread()
    {
        if (!_reactor.IsOnReactorThread)
        {
            Interlocked.Increment(ref s_offThreadCalls);
            throw new InvalidOperationException("A TLS stream operation ran off the reactor thread; the connection cannot go on.");
        }
    }
}
