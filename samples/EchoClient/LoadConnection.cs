using System;
using System.Diagnostics;
using SelectReactor.Net;

namespace EchoClient;

/// <summary>
/// One client connection: sends the pattern from its own offset, checks what comes back, and times each message.
/// Runs on its worker's reactor thread only, so it needs no locks; the per-message path allocates nothing.
/// </summary>
internal sealed class LoadConnection : ConnectionHandler
{
    private readonly LoadWorker _worker;
    private readonly LoadRun _run;
    private readonly byte[] _pattern;
    private readonly int _offset;
    private readonly int _size;
    private readonly long[]? _starts; // stream: start times of the messages in flight (a ring)
    private readonly long _quota;     // --messages: how many this connection sends; 0: no limit
    private TcpConnection? _connection;
    private long _tx;                 // bytes handed to the connection
    private long _rx;                 // bytes echoed back
    private long _messageEnd;         // ping-pong: stream offset where the current message ends
    private long _messageStart;       // ping-pong: when the current message was sent
    private long _started;            // messages whose first byte was sent
    private long _completed;          // messages fully echoed
    private int _ringHead;
    private int _ringCount;
    private bool _quotaCounted;
    private bool _ended;

    public LoadConnection(LoadWorker worker, LoadRun run, int index, long quota)
    {
        _worker = worker;
        _run = run;
        _pattern = run.Pattern;
        Index = index;
        _offset = Pattern.Offset(index);
        _size = run.Options.Size;
        _quota = quota;
        if (run.Options.Mode == LoadMode.Stream)
        {
            _starts = new long[run.Options.Window / run.Options.Size + 3];
        }
    }

    public enum ConnState
    {
        New,
        Connecting,
        Open,
        Closing,
        Closed,
        Failed,
    }

    public int Index { get; }

    public ConnState State { get; private set; }

    /// <summary>True once the connection is over: closed (its OnClosed has run), or never started.</summary>
    public bool Ended => _ended || State == ConnState.New;

    /// <summary>Messages completed inside the measured window.</summary>
    public long WindowMessages { get; private set; }

    /// <summary>True once nothing sent is still waiting to come back.</summary>
    public bool Drained => State != ConnState.Open || _rx == _tx;

    /// <summary>True once a --messages quota is fully echoed (or the connection has failed).</summary>
    public bool QuotaDone => State == ConnState.Failed || (_quota > 0 && _completed >= _quota);

    public void Start(System.Net.EndPoint endPoint, TcpConnectorOptions options)
    {
        State = ConnState.Connecting;
        _connection = TcpConnector.Connect(_worker.Reactor, endPoint, this, options);
    }

    /// <summary>Gives up on a connection that was never started because connecting took too long.</summary>
    public void GiveUp(string why)
    {
        State = ConnState.Failed;
        _ended = true;
        _run.Errors.Report(Index, why);
        CountQuotaDone();
    }

    /// <summary>After the drain: an open connection that still waits for bytes lost them; otherwise close it.</summary>
    public void Finish()
    {
        if (State != ConnState.Open)
        {
            return;
        }

        if (_rx != _tx)
        {
            _run.CountLost();
            Fail($"lost data: {_tx} bytes sent but only {_rx} echoed back (drain timeout {_run.Options.Drain.TotalSeconds:0.0}s)");
            return;
        }

        if (_quota > 0 && _completed < _quota)
        {
            Fail($"sent only {_completed} of its {_quota} messages within --duration");
            return;
        }

        State = ConnState.Closing;
        _connection!.Close();
    }

    public override void OnConnected(TcpConnection connection)
    {
        State = ConnState.Open;
        _worker.OnSettled(established: true);
        long now = Stopwatch.GetTimestamp();
        if (_run.Options.Mode == LoadMode.PingPong)
        {
            _messageEnd = _size;
            _messageStart = now;
        }

        if (_quota > 0 || !_run.MessagesMode)
        {
            SendMore(now);
        }
        else
        {
            CountQuotaDone(); // --messages below the number of connections: this one sends nothing
        }
    }

    public override void OnData(TcpConnection connection, ReadOnlySpan<byte> data)
    {
        if (State != ConnState.Open)
        {
            return;
        }

        if (_rx + data.Length > _tx)
        {
            Fail($"server echoed {_rx + data.Length - _tx} bytes more than were sent");
            return;
        }

        if (_run.Options.Verify && !Matches(data))
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        bool inWindow = now >= _run.MeasureStart && now < _run.MeasureEnd;
        _rx += data.Length;
        if (inWindow)
        {
            _worker.WindowBytes += data.Length;
        }

        if (_starts is null)
        {
            if (_rx == _messageEnd)
            {
                Complete(now - _messageStart, inWindow);
                _messageEnd += _size;
                _messageStart = now;
                SendMore(now);
            }
        }
        else
        {
            while (_ringCount > 0 && (_completed + 1) * _size <= _rx)
            {
                long start = _starts[_ringHead];
                _ringHead = (_ringHead + 1) % _starts.Length;
                _ringCount--;
                Complete(now - start, inWindow);
            }

            SendMore(now);
        }
    }

    public override void OnRemoteShutdown(TcpConnection connection)
    {
        if (State == ConnState.Open)
        {
            Fail($"server closed the connection (tx={_tx} rx={_rx})");
            return;
        }

        connection.Close();
    }

    public override void OnClosed(TcpConnection connection, ConnectionCloseReason reason, Exception? error)
    {
        switch (State)
        {
            case ConnState.Connecting:
                State = ConnState.Failed;
                _run.Errors.Report(Index, $"connect: {reason}: {error?.Message}");
                _worker.OnSettled(established: false);
                CountQuotaDone();

                break;
            case ConnState.Open:
                Fail($"closed unexpectedly: {reason}: {error?.Message} (tx={_tx} rx={_rx})");
                break;
            case ConnState.Closing:
                State = ConnState.Closed;
                break;
        }

        _ended = true;
    }

    private void Complete(long elapsedTicks, bool inWindow)
    {
        _completed++;
        if (inWindow)
        {
            _worker.Histogram.Add(_run.TicksToNanoseconds(elapsedTicks));
            _worker.WindowMessages++;
            WindowMessages++;
        }

        if (_quota > 0 && _completed == _quota)
        {
            CountQuotaDone();
        }
    }

    /// <summary>Writes what the mode allows: the rest of the current ping-pong message, or stream chunks up to the window.</summary>
    private void SendMore(long now)
    {
        bool stopping = now >= _run.MeasureEnd;
        if (_starts is null)
        {
            if (_tx >= _messageEnd || stopping || (_quota > 0 && _started >= _quota))
            {
                return;
            }

            _started++;
            Send(_messageEnd - _tx);
            return;
        }

        int window = _run.Options.Window;
        while (State == ConnState.Open)
        {
            long inFlight = _tx - _rx;
            long position = _tx % _size;
            if (position == 0 && (stopping || (_quota > 0 && _started >= _quota)))
            {
                break; // no new messages; a message already begun is finished first
            }

            if (inFlight >= window)
            {
                break;
            }

            long length = Math.Min(_size - position, window - inFlight);
            if (position == 0)
            {
                _starts[(_ringHead + _ringCount) % _starts.Length] = now;
                _ringCount++;
                _started++;
            }

            Send(length);
        }
    }

    private void Send(long length)
    {
        int position = Pattern.Position(_offset, _tx);
        if (!_connection!.Send(_pattern.AsSpan(position, (int)length)))
        {
            Fail("the connection refused a send (closed, or its send buffer overflowed)");
            return;
        }

        _tx += length;
    }

    private bool Matches(ReadOnlySpan<byte> data)
    {
        long at = _rx;
        while (!data.IsEmpty)
        {
            int chunk = Math.Min(data.Length, Pattern.Extra);
            ReadOnlySpan<byte> expected = _pattern.AsSpan(Pattern.Position(_offset, at), chunk);
            if (!data[..chunk].SequenceEqual(expected))
            {
                int i = 0;
                while (data[i] == expected[i])
                {
                    i++;
                }

                _run.CountVerifyError();
                Fail($"VERIFY MISMATCH at stream offset {at + i}: got 0x{data[i]:x2} expected 0x{expected[i]:x2}");
                return false;
            }

            data = data[chunk..];
            at += chunk;
        }

        return true;
    }

    private void Fail(string message)
    {
        if (State is ConnState.Failed or ConnState.Closed)
        {
            return;
        }

        State = ConnState.Failed;
        _run.Errors.Report(Index, message);
        _connection?.Abort();
        CountQuotaDone();
    }

    /// <summary>--messages: this connection will send no more (quota echoed, or it failed); counted once.</summary>
    private void CountQuotaDone()
    {
        if (_run.MessagesMode && !_quotaCounted)
        {
            _quotaCounted = true;
            _run.QuotaReached();
        }
    }
}
