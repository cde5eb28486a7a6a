using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Threading;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>
/// What a helper thread that polls the cold sockets means for <c>Socket.Dispose</c> on another thread: the runtime
/// holds a reference on every socket's handle during Select, so Dispose cannot close the descriptor; it shuts the
/// socket down to make the poll return, and spins until the poll has let go. Measured: how long Dispose takes,
/// with the socket alone in the helper's poll and among N others, and what the peer sees.
/// </summary>
internal static class DisposeWhilePolled
{
    public static void Run(IReadOnlyList<int> counts, string idlehold, TextWriter output)
    {
        output.WriteLine("| other sockets in the helper's poll | Dispose took µs (median of 20) | helper's Select returned after µs | peer saw |");
        output.WriteLine("|---:|---:|---:|---|");
        foreach (int n in (int[])[-1, .. counts])
        {
            using ExternalPeers? peers = n > 0 ? new ExternalPeers(idlehold, n) : null;
            var disposeUs = new double[20];
            var returnUs = new double[20];
            string peerSaw = "";
            for (int round = 0; round < disposeUs.Length; round++)
            {
                using var pair = new LoopbackPairs(1);
                Socket victim = pair.Servers[0];
                var list = new List<Socket>(n + 1) { victim };
                if (peers is not null)
                {
                    list.AddRange(peers.Sockets);
                }

                long returnedAt = 0;
                using var polling = new ManualResetEventSlim();
                var helper = new Thread(() =>
                {
                    polling.Set();
                    try
                    {
                        Socket.Select(list, null, null, 5_000_000);
                    }
                    catch (Exception e) when (e is ObjectDisposedException or SocketException)
                    {
                        // Expected on some runtimes: the socket went away under the call.
                    }

                    Volatile.Write(ref returnedAt, Stopwatch.GetTimestamp());
                });
                if (n >= 0)
                {
                    helper.Start();
                    polling.Wait();
                    Thread.Sleep(50); // the helper is asleep in poll by now
                }

                long start = Stopwatch.GetTimestamp();
                victim.Dispose();
                disposeUs[round] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (n >= 0)
                {
                    helper.Join();
                    returnUs[round] = Stopwatch.GetElapsedTime(start, Volatile.Read(ref returnedAt)).TotalMicroseconds;
                }


                Socket peer = pair.Clients[0];
                peer.Blocking = true;
                peer.ReceiveTimeout = 2000;
                int got = peer.Receive(new byte[1], SocketFlags.None, out SocketError error);
                peerSaw = error == SocketError.Success ? (got == 0 ? "end of stream (FIN)" : "data") : error.ToString();
            }

            Array.Sort(disposeUs);
            Array.Sort(returnUs);
            string who = n < 0 ? "not polled (control)" : n.ToString("N0", CultureInfo.InvariantCulture);
            string returned = n < 0 ? "-" : returnUs[10].ToString("F0", CultureInfo.InvariantCulture);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {who} | {disposeUs[10]:F0} | {returned} | {peerSaw} |"));
            output.Flush();
        }
    }
}
