using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>
/// Throw-away echo servers that try the designs for idle connections end to end, under compare.sh --idle, before
/// any of them goes into the reactor. Same command line and output as the sample (--port, "listening on ...",
/// exit 0 on SIGTERM); the echo logic is the hand-written select loop's (tests/Baselines/SelectEchoServer).
/// <list type="bullet">
/// <item>naive: every socket in every select; the control.</item>
/// <item>tiered: sockets ready within --cold-after stay hot and are selected every tick; the others are cold and
/// are polled with zero-timeout selects in slices of 79 (the runtime allocates nothing below 80), paced so a whole
/// pass takes D = clamp(pass cost / --share, --min-delay, --max-delay); when nothing was ready anywhere for D, one
/// select over everything with a 1 s timeout.</item>
/// <item>helper: the reactor thread selects the hot sockets; a helper thread blocks in select over the cold ones
/// and hands ready ones over (queue + wake-up datagram). Any change of the cold set restarts its select.</item>
/// </list>
/// </summary>
internal static class PrototypeEchoServer
{
    private static readonly byte[] s_buffer = new byte[64 * 1024];
    private static int s_stopping;
    private static readonly bool s_stats = Environment.GetEnvironmentVariable("IDLELAB_STATS") == "1";

    public static int Run(string[] args)
    {
        string design = "tiered";
        int port = 7007;
        double coldAfterMs = 1000, share = 0.1, minDelayMs = 10, maxDelayMs = 50;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--design": design = v; break;
                case "--port": port = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--cold-after": coldAfterMs = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--share": share = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--min-delay": minDelayMs = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--max-delay": maxDelayMs = double.Parse(v, CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"echo: unknown option {args[i]}"); return 2;
            }
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(4096);
        listener.Blocking = false;
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        Console.WriteLine($"listening on {listener.LocalEndPoint}");
        var server = new Loop(listener, design, Ms(coldAfterMs), share, Ms(minDelayMs), Ms(maxDelayMs));
        server.Run();
        return 0;

        static void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Volatile.Write(ref s_stopping, 1);
        }

        static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);
    }

    private sealed class Conn(Socket socket)
    {
        public readonly Socket Socket = socket;
        public byte[] Unsent = [];
        public int UnsentOffset;
        public int UnsentCount;
        public bool Cold;
        public int Index;
        public long LastReady;
    }

    /// <summary>A tier: a dense array of connections, each knowing its index; removal swaps the last one in.</summary>
    private sealed class Tier
    {
        public Conn[] Items = new Conn[64];
        public Socket[] Sockets = new Socket[64];
        public int Count;

        public void Add(Conn c)
        {
            if (Count == Items.Length)
            {
                Array.Resize(ref Items, Count * 2);
                Array.Resize(ref Sockets, Count * 2);
            }

            c.Index = Count;
            Items[Count] = c;
            Sockets[Count++] = c.Socket;
        }

        public void MoveTo(int from, int to)
        {
            Conn c = Items[from];
            Items[to] = c;
            Sockets[to] = c.Socket;
            c.Index = to;
        }

        public void RemoveLast()
        {
            Count--;
            Items[Count] = null!;
            Sockets[Count] = null!;
        }
    }

    private sealed class Loop(Socket listener, string design, long coldAfter, double share, long minDelay, long maxDelay)
    {
        private readonly Tier _hot = new();
        private readonly Tier _cold = new();
        private readonly List<Socket> _read = new();
        private readonly List<Socket> _write = new();
        private readonly List<Socket> _slice = new(SelectCost.StackSlice);
        private readonly Dictionary<Socket, Conn> _bySocket = new(ReferenceEqualityComparer.Instance);
        private readonly LoopbackPairs _wake = new(1);
        private long _lastReady = Stopwatch.GetTimestamp();
        private long _lastSweep;
        private long _lastStats;
        private long _lastPassCost;
        private long _maxPassWall;
        private int _ticks;
        private int _fullSelects;
        private long _delay;

        // The cold pass: [0, _cursor) polled in this pass; it started at _passStart and has cost _passCost so far.
        private int _cursor;
        private long _passStart = Stopwatch.GetTimestamp();
        private long _passCost;
        private double _perSocket;

        // helper design
        private readonly ConcurrentQueue<Conn> _toHelper = new();
        private readonly ConcurrentQueue<Conn> _fromHelper = new();

        public void Run()
        {
            _delay = minDelay;
            if (design == "helper")
            {
                new Thread(HelperLoop) { IsBackground = true, Name = "cold-helper" }.Start();
            }

            while (Volatile.Read(ref s_stopping) == 0)
            {
                long now = Stopwatch.GetTimestamp();
                switch (design)
                {
                    case "naive":
                        SelectHot(1_000_000, includeCold: false);
                        break;
                    case "tiered":
                        TieredTick(now);
                        break;
                    default:
                        HelperTick();
                        break;
                }

                _ticks++;
                if (design != "naive" && now - _lastSweep > Stopwatch.Frequency / 10)
                {
                    _lastSweep = now;
                    Demote(now);
                }

                if (s_stats && now - _lastStats > Stopwatch.Frequency)
                {
                    _lastStats = now;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"stats: hot {_hot.Count} cold {_cold.Count} D {_delay * 1000.0 / Stopwatch.Frequency:F1} ms last pass {_lastPassCost * 1000.0 / Stopwatch.Frequency:F2} ms est {_perSocket * 1e9 / Stopwatch.Frequency:F0} ns/socket max pass wall {_maxPassWall * 1000.0 / Stopwatch.Frequency:F1} ms ticks {_ticks} full {_fullSelects} gen0 {GC.CollectionCount(0)}"));
                    _ticks = 0;
                    _fullSelects = 0;
                    _maxPassWall = 0;
                }
            }
        }

        private void TieredTick(long now)
        {
            if (_cold.Count > 0 && now - _lastReady > _delay)
            {
                // Nothing ready anywhere for a whole pass: sleep on everything; one pass is as good as done.
                _fullSelects++;
                int ready = SelectHot(1_000_000, includeCold: true);
                _cursor = 0;
                _passStart = Stopwatch.GetTimestamp();
                _passCost = 0;
                if (ready > 0)
                {
                    _lastReady = _passStart;
                }

                return;
            }

            int due = ColdDue(now);
            int timeoutUs = 1_000_000;
            if (_cold.Count > 0)
            {
                // Wake when the next slice is due (whole ms, rounded up), or at once if it is due now.
                long next = _passStart + (_delay * Math.Min(_cursor + SelectCost.StackSlice, _cold.Count) / _cold.Count);
                timeoutUs = due > 0 ? 0 : (int)Math.Clamp(((next - now) * 1000 / Stopwatch.Frequency) + 1, 1, 1000) * 1000;
            }

            if (SelectHot(timeoutUs, includeCold: false) > 0)
            {
                _lastReady = Stopwatch.GetTimestamp();
            }

            PollColdSlices(ColdDue(Stopwatch.GetTimestamp()));
        }

        /// <summary>How many cold sockets this pass should have polled by now, beyond those it has.</summary>
        private int ColdDue(long now)
        {
            if (_cold.Count == 0)
            {
                return 0;
            }

            long elapsed = now - _passStart;
            long target = elapsed >= _delay ? _cold.Count : _cold.Count * elapsed / _delay;
            return (int)Math.Max(0, target - _cursor);
        }

        private void PollColdSlices(int due)
        {
            while (due > 0 && _cursor < _cold.Count)
            {
                int n = Math.Min(SelectCost.StackSlice, _cold.Count - _cursor);
                CollectionsMarshal.SetCount(_slice, n);
                _cold.Sockets.AsSpan(_cursor, n).CopyTo(CollectionsMarshal.AsSpan(_slice));
                long t0 = Stopwatch.GetTimestamp();
                Socket.Select(_slice, null, null, 0);
                double perSocket = (Stopwatch.GetTimestamp() - t0) / (double)n;

                // A slice that took over 4x the estimate was preempted (the core is shared): clip it, so that the
                // pace follows what polling costs, not what the scheduler did.
                _perSocket = _perSocket == 0 ? perSocket : _perSocket + ((Math.Min(perSocket, 4 * _perSocket) - _perSocket) / 16);
                _passCost += (long)(perSocket * n);
                _cursor += n;
                due -= n;
                for (int i = 0; i < _slice.Count; i++)
                {
                    Conn c = _bySocket[_slice[i]];
                    Promote(c);
                    Echo(c);
                }

                if (_slice.Count > 0)
                {
                    _lastReady = Stopwatch.GetTimestamp();
                }
            }

            if (_cursor >= _cold.Count)
            {
                // Pass complete: pace the next one so cold polling stays near `share` of the time.
                _lastPassCost = _passCost;
                _maxPassWall = Math.Max(_maxPassWall, Stopwatch.GetTimestamp() - _passStart);
                _delay = Math.Clamp((long)(_perSocket * _cold.Count / share), minDelay, maxDelay);
                _cursor = 0;
                _passCost = 0;
                _passStart = Stopwatch.GetTimestamp();
            }
        }

        /// <summary>Select over the listener and the hot tier (and the cold one if asked); returns sockets ready.</summary>
        private int SelectHot(int timeoutUs, bool includeCold)
        {
            _read.Clear();
            _write.Clear();
            _read.Add(listener);
            _read.Add(_wake.Servers[0]);
            for (int i = 0; i < _hot.Count; i++)
            {
                Conn c = _hot.Items[i];
                (c.UnsentCount == 0 ? _read : _write).Add(c.Socket);
            }

            if (includeCold)
            {
                for (int i = 0; i < _cold.Count; i++)
                {
                    _read.Add(_cold.Sockets[i]);
                }
            }

            Socket.Select(_read, _write, null, timeoutUs);
            int ready = _read.Count + _write.Count;
            long now = Stopwatch.GetTimestamp();
            foreach (Socket s in _write)
            {
                Conn c = _bySocket[s];
                c.LastReady = now;
                Flush(c);
            }

            foreach (Socket s in _read)
            {
                if (s == listener)
                {
                    AcceptBatch(now);
                }
                else if (s == _wake.Servers[0])
                {
                    _wake.Servers[0].Receive(s_buffer, SocketFlags.None, out _);
                    while (_fromHelper.TryDequeue(out Conn? c))
                    {
                        _hot.Add(c);
                        c.Cold = false;
                        c.LastReady = now;
                        Echo(c);
                    }
                }
                else
                {
                    Conn c = _bySocket[s];
                    if (c.Cold)
                    {
                        Promote(c);
                    }

                    c.LastReady = now;
                    Echo(c);
                }
            }

            return ready;
        }

        private void HelperTick()
        {
            SelectHot(1_000_000, includeCold: false);
        }

        private void HelperLoop()
        {
            var cold = new List<Conn>();
            var list = new List<Socket>();
            Socket wake = new LoopbackPairs(1) is var p ? p.Servers[0] : null!;
            Socket wakeWriter = p.Clients[0];
            _helperWake = wakeWriter;
            while (Volatile.Read(ref s_stopping) == 0)
            {
                while (_toHelper.TryDequeue(out Conn? c))
                {
                    cold.Add(c);
                }

                list.Clear();
                list.Add(wake);
                foreach (Conn c in cold)
                {
                    list.Add(c.Socket);
                }

                Socket.Select(list, null, null, 1_000_000);
                bool handed = false;
                foreach (Socket s in list)
                {
                    if (s == wake)
                    {
                        wake.Receive(s_helperDrain, SocketFlags.None, out _);
                        continue;
                    }

                    int i = cold.FindIndex(c => c.Socket == s);
                    Conn conn = cold[i];
                    cold[i] = cold[^1];
                    cold.RemoveAt(cold.Count - 1);
                    _fromHelper.Enqueue(conn);
                    handed = true;
                }

                if (handed)
                {
                    _wake.Clients[0].Send(s_one);
                }
            }
        }

        private Socket? _helperWake;
        private static readonly byte[] s_one = [1];
        private static readonly byte[] s_helperDrain = new byte[64];

        private void Demote(long now)
        {
            bool moved = false;
            for (int i = _hot.Count - 1; i >= 0; i--)
            {
                Conn c = _hot.Items[i];
                if (c.UnsentCount == 0 && now - c.LastReady > coldAfter)
                {
                    RemoveAt(_hot, i);
                    c.Cold = true;
                    if (design == "helper")
                    {
                        _toHelper.Enqueue(c);
                        moved = true;
                    }
                    else
                    {
                        _cold.Add(c);
                    }
                }
            }

            if (moved)
            {
                _helperWake?.Send(s_one);
            }
        }

        private void Promote(Conn c)
        {
            int i = c.Index;
            if (i < _cursor)
            {
                // Polled already in this pass: keep the unpolled ones behind the cursor (the bound holds for them).
                _cold.MoveTo(_cursor - 1, i);
                _cold.MoveTo(_cold.Count - 1, _cursor - 1);
                _cursor--;
            }
            else
            {
                _cold.MoveTo(_cold.Count - 1, i);
            }

            _cold.RemoveLast();
            c.Cold = false;
            c.LastReady = Stopwatch.GetTimestamp();
            _hot.Add(c);
        }

        private static void RemoveAt(Tier tier, int i)
        {
            tier.MoveTo(tier.Count - 1, i);
            tier.RemoveLast();
        }

        private void AcceptBatch(long now)
        {
            for (int i = 0; i < 64; i++)
            {
                Socket s;
                try
                {
                    s = listener.Accept();
                }
                catch (SocketException)
                {
                    return; // the backlog is empty
                }

                s.Blocking = false;
                s.NoDelay = true;
                var c = new Conn(s) { LastReady = now };
                _bySocket.Add(s, c);
                _hot.Add(c);
            }
        }

        private void Echo(Conn c)
        {
            int n = c.Socket.Receive(s_buffer, 0, s_buffer.Length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (n == 0 || error != SocketError.Success)
            {
                Drop(c);
                return;
            }

            int sent = c.Socket.Send(s_buffer, 0, n, SocketFlags.None, out error);
            if (error == SocketError.WouldBlock)
            {
                sent = 0;
            }
            else if (error != SocketError.Success)
            {
                Drop(c);
                return;
            }

            if (sent < n)
            {
                if (c.Unsent.Length < n - sent)
                {
                    c.Unsent = new byte[n - sent];
                }

                s_buffer.AsSpan(sent, n - sent).CopyTo(c.Unsent);
                c.UnsentOffset = 0;
                c.UnsentCount = n - sent;
            }
        }

        private void Flush(Conn c)
        {
            int sent = c.Socket.Send(c.Unsent, c.UnsentOffset, c.UnsentCount, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error != SocketError.Success)
            {
                Drop(c);
                return;
            }

            c.UnsentOffset += sent;
            c.UnsentCount -= sent;
        }

        private void Drop(Conn c)
        {
            if (!_bySocket.Remove(c.Socket))
            {
                return;
            }

            if (!c.Cold)
            {
                RemoveAt(_hot, c.Index);
            }
            else if (design != "helper")
            {
                Promote(c);
                RemoveAt(_hot, c.Index);
            }

            c.Socket.Dispose();
        }
    }
}
