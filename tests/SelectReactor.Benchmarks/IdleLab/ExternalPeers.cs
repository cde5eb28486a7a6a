using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>
/// N accepted TCP sockets whose peers live in another process: idlehold (../shared/bench/idlehold.c), started pinned
/// to core 1, holds the client ends. Only one descriptor per connection is spent here, so 18,000 fit under a limit
/// of 20,000, and the sockets are what a server really holds: accepted ends of idle connections from elsewhere.
/// </summary>
internal sealed class ExternalPeers : IDisposable
{
    private readonly Process _holder;
    private readonly Socket _listener;

    public ExternalPeers(string idlehold, int count)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        int port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        var start = new ProcessStartInfo("taskset", $"-c 1 {idlehold} {port} {count} 3600")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _holder = Process.Start(start) ?? throw new InvalidOperationException("idlehold did not start");
        Sockets = new Socket[count];
        var deadline = Stopwatch.StartNew();
        _listener.Blocking = true;
        for (int i = 0; i < count; i++)
        {
            if (!_listener.Poll(60_000_000, SelectMode.SelectRead) || deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                Dispose();
                throw new TimeoutException($"accepted {i} of {count} connections from idlehold");
            }

            Socket s = _listener.Accept();
            s.Blocking = false;
            s.NoDelay = true;
            Sockets[i] = s;
        }
    }

    /// <summary>The accepted ends, never sent anything: never readable.</summary>
    public Socket[] Sockets { get; }

    /// <summary>The idlehold binary beside the benchmarks' artifacts (compare.sh builds it), or a path given.</summary>
    public static string FindIdlehold(string? given)
    {
        if (given is not null)
        {
            return given;
        }

        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "artifacts", "bench", "bin", "idlehold");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("idlehold not found: build it (compare.sh --idle does) or pass --idlehold PATH");
    }

    public void Dispose()
    {
        foreach (Socket? s in Sockets ?? [])
        {
            s?.Dispose();
        }

        _listener.Dispose();
        try
        {
            _holder.Kill();
            _holder.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Expected: it has exited already.
        }

        _holder.Dispose();
    }

    /// <summary>Splits <paramref name="sockets"/> into lists of at most <paramref name="size"/>.</summary>
    public static List<Socket>[] Slices(Socket[] sockets, int size)
    {
        var slices = new List<Socket>[(sockets.Length + size - 1) / size];
        for (int i = 0; i < slices.Length; i++)
        {
            slices[i] = new List<Socket>(size);
        }

        return slices;
    }
}
