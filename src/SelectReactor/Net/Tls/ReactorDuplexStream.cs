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
/// While <see cref="Feed"/> runs, the <c>SslStream</c>'s reads copy straight from the bytes being fed (the reactor's
/// receive buffer) into its own buffer. Only what it does not take then (the handler paused, a record left whole for
/// later) is kept, in one array rented from the pool and returned as soon as it has all been taken: an idle
/// connection holds none.
/// </para>
/// </remarks>
internal sealed unsafe class ReactorDuplexStream : Stream, IValueTaskSource<int>
{
    private static long s_offThreadCalls;

    private readonly Reactor _reactor;
    private readonly IConnectionLayerHost _host;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _ended;

    // The bytes Feed is handing in, read in place while it runs (the reactor's receive buffer, pinned by Feed's
    // fixed statement): what the SslStream asks for during the feed is copied straight into its own buffer.
    private byte* _incoming;
    private int _incomingLength;

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
    public int Buffered => _end - _start + _incomingLength;

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

    /// <summary>
    /// Hands in ciphertext read from the socket: completes a pending read with it (running the reader's continuation
    /// inline, which reads on, straight from <paramref name="data"/>), and keeps whatever the reader did not take.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        EnsureReactorThread();
        if (data.IsEmpty || _ended)
        {
            return;
        }

        fixed (byte* bytes = data)
        {
            _incoming = bytes;
            _incomingLength = data.Length;
            try
            {
                CompletePending();
            }
            finally
            {
                // What the reader did not take now is kept for its next read. The pointer is never used after this.
                ReadOnlySpan<byte> left = new(_incoming, _incomingLength);
                _incoming = null;
                _incomingLength = 0;
                Append(left);
            }
        }
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

    /// <summary>Copies what is buffered into <paramref name="destination"/>: kept bytes first, then those being fed.</summary>
    private int Take(Span<byte> destination)
    {
        int taken = 0;
        if (_buffer is not null)
        {
            int n = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
            taken = n;
            if (_start == _end)
            {
                // All taken: an idle connection holds no buffer.
                BufferPool.Return(_buffer);
                _buffer = null;
                _start = _end = 0;
            }
        }

        int fromFeed = Math.Min(destination.Length - taken, _incomingLength);
        if (fromFeed > 0)
        {
            new ReadOnlySpan<byte>(_incoming, fromFeed).CopyTo(destination[taken..]);
            _incoming += fromFeed;
            _incomingLength -= fromFeed;
            taken += fromFeed;
        }

        return taken;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_buffer is null)
        {
            _buffer = BufferPool.Rent(data.Length);
        }
        else if (_buffer.Length - _end < data.Length)
        {
            int buffered = _end - _start;
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
