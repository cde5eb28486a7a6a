using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>
/// What one <c>Socket.Select</c> over N idle sockets costs the calling thread: with a zero timeout in one call, with
/// a zero timeout in slices small enough for the runtime's stack path, and blocking until another thread wakes it
/// (poll then registers on every socket's wait queue, sleeps, and unregisters from every one on the way out).
/// CPU is the polling thread's own (CLOCK_THREAD_CPUTIME_ID), so a loaded machine inflates wall times, not these.
/// </summary>
internal static class SelectCost
{
    /// <summary>The runtime stack-allocates its poll array below 80 entries (SocketPal.Unix.cs, StackThreshold).</summary>
    public const int StackSlice = 79;

    public static void Run(IReadOnlyList<int> counts, string idlehold, TextWriter output)
    {
        output.WriteLine("| idle sockets | zero timeout, one call: µs CPU | ns CPU per socket | µs wall | B allocated | zero timeout, slices of 79: µs CPU per pass | ns per socket | B | blocking, woken: µs CPU per call | ns per socket | B | woken→returned µs (median) |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in counts)
        {
            using var peers = new ExternalPeers(idlehold, n);
            using var wake = new LoopbackPairs(1);
            (double cpu, double wall, double bytes) one = ZeroTimeoutOneCall(peers.Sockets);
            (double cpu, double bytes) sliced = ZeroTimeoutSlices(peers.Sockets);
            (double cpu, double bytes, double wokenUs) blocking = BlockingWoken(peers.Sockets, wake);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n:N0} | {one.cpu:F1} | {one.cpu * 1000 / n:F0} | {one.wall:F1} | {one.bytes:F0} | {sliced.cpu:F1} | {sliced.cpu * 1000 / n:F0} | {sliced.bytes:F0} | {blocking.cpu:F1} | {blocking.cpu * 1000 / n:F0} | {blocking.bytes:F0} | {blocking.wokenUs:F0} |"));
            output.Flush();
        }
    }

    /// <summary>Bytes the runtime allocates per zero-timeout select over N never-ready sockets, by N.</summary>
    public static void Allocation(TextWriter output)
    {
        output.WriteLine("| sockets in the call | B allocated per call |");
        output.WriteLine("|---:|---:|");
        using var pairs = new LoopbackPairs(1000);
        foreach (int n in new[] { 1, 2, 40, 78, 79, 80, 81, 100, 200, 1000 })
        {
            var list = new List<Socket>(n);
            Refill(list, pairs.Servers.AsSpan(0, n));
            Socket.Select(list, null, null, 0);
            const int Calls = 200;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++)
            {
                Refill(list, pairs.Servers.AsSpan(0, n));
                Socket.Select(list, null, null, 0);
            }

            double perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Calls;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {perCall:F0} |"));
        }
    }

    private static (double CpuUs, double WallUs, double Bytes) ZeroTimeoutOneCall(Socket[] sockets)
    {
        var list = new List<Socket>(sockets.Length);
        for (int i = 0; i < 3; i++)
        {
            Refill(list, sockets);
            Socket.Select(list, null, null, 0);
        }

        long alloc = GC.GetAllocatedBytesForCurrentThread();
        long cpu = ThreadCpu.Nanoseconds();
        long start = Stopwatch.GetTimestamp();
        int calls = 0;
        do
        {
            Refill(list, sockets);
            Socket.Select(list, null, null, 0);
            calls++;
        }
        while (calls < 100_000 && Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(500));

        return ((ThreadCpu.Nanoseconds() - cpu) / 1000.0 / calls,
            Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls,
            (GC.GetAllocatedBytesForCurrentThread() - alloc) / (double)calls);
    }

    private static (double CpuUs, double Bytes) ZeroTimeoutSlices(Socket[] sockets)
    {
        List<Socket>[] slices = ExternalPeers.Slices(sockets, StackSlice);
        for (int warm = 0; warm < 2; warm++)
        {
            OnePass(slices, sockets);
        }

        long alloc = GC.GetAllocatedBytesForCurrentThread();
        long cpu = ThreadCpu.Nanoseconds();
        long start = Stopwatch.GetTimestamp();
        int passes = 0;
        do
        {
            OnePass(slices, sockets);
            passes++;
        }
        while (passes < 100_000 && Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(500));

        return ((ThreadCpu.Nanoseconds() - cpu) / 1000.0 / passes, (GC.GetAllocatedBytesForCurrentThread() - alloc) / (double)passes);

        static void OnePass(List<Socket>[] slices, Socket[] sockets)
        {
            for (int s = 0; s < slices.Length; s++)
            {
                int from = s * StackSlice;
                Refill(slices[s], sockets.AsSpan(from, Math.Min(StackSlice, sockets.Length - from)));
                Socket.Select(slices[s], null, null, 0);
            }
        }
    }

    private static (double CpuUs, double Bytes, double WokenUs) BlockingWoken(Socket[] sockets, LoopbackPairs wake)
    {
        // The wake-up socket first, as in the reactor; it is not ready when the call starts, so poll registers on
        // every socket's wait queue either way.
        Socket wakeRead = wake.Servers[0];
        Socket wakeWrite = wake.Clients[0];
        var all = new Socket[sockets.Length + 1];
        all[0] = wakeRead;
        sockets.CopyTo(all, 1);
        var list = new List<Socket>(all.Length);
        using var go = new SemaphoreSlim(0);
        long sentAt = 0;
        bool stop = false;
        var waker = new Thread(() =>
        {
            byte[] one = [1];
            while (true)
            {
                go.Wait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.Sleep(2); // the poller is asleep in poll by now
                Volatile.Write(ref sentAt, Stopwatch.GetTimestamp());
                wakeWrite.Send(one);
            }
        });
        waker.Start();
        const int Calls = 100;
        long cpuTotal = 0, allocTotal = 0;
        var woken = new double[Calls];
        byte[] drain = new byte[16];
        for (int i = -3; i < Calls; i++)
        {
            Refill(list, all);
            go.Release();
            long alloc = GC.GetAllocatedBytesForCurrentThread();
            long cpu = ThreadCpu.Nanoseconds();
            Socket.Select(list, null, null, 5_000_000);
            long returned = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                cpuTotal += ThreadCpu.Nanoseconds() - cpu;
                allocTotal += GC.GetAllocatedBytesForCurrentThread() - alloc;
                woken[i] = Stopwatch.GetElapsedTime(Volatile.Read(ref sentAt), returned).TotalMicroseconds;
            }

            // Wait until the byte is there (the sender may lag behind a select that returned for another reason).
            wakeRead.Poll(1_000_000, SelectMode.SelectRead);
            wakeRead.Receive(drain, SocketFlags.None, out _);
        }

        Volatile.Write(ref stop, true);
        go.Release();
        waker.Join();
        Array.Sort(woken);
        return (cpuTotal / 1000.0 / Calls, allocTotal / (double)Calls, woken[Calls / 2]);
    }

    /// <summary>The reactor's refill: one block copy into the list's backing array.</summary>
    private static void Refill(List<Socket> list, ReadOnlySpan<Socket> from)
    {
        CollectionsMarshal.SetCount(list, from.Length);
        from.CopyTo(CollectionsMarshal.AsSpan(list));
    }
}
