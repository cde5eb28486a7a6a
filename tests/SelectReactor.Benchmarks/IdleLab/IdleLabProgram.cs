using System;
using System.Globalization;
using System.Linq;

namespace SelectReactor.Benchmarks.IdleLab;

/// <summary>
/// <c>SelectReactor.Benchmarks idle-lab COMMAND</c>: the measurements behind the design for idle connections
/// (issue 12). Not BenchmarkDotNet: they need peers in another process (idlehold) and the polling thread's own CPU
/// time. Run pinned to core 0 (<c>taskset -c 0</c>); idlehold is pinned to core 1.
/// </summary>
internal static class IdleLabProgram
{
    private const string Usage = """
        usage: SelectReactor.Benchmarks idle-lab COMMAND [--sockets N,N,...] [--idlehold PATH]
          cost       Socket.Select over N idle sockets: zero timeout in one call and in slices of 79, and blocking
                     until woken (CPU of the polling thread, bytes allocated, wake-to-return time)
          alloc      bytes the runtime allocates per Select call, by the number of sockets
          dispose    Socket.Dispose while another thread's Select polls the socket (the helper-thread hazard)
          echo       a prototype echo server (--design naive|tiered|helper), for compare.sh --idle
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string command = args[0];
        int[] sockets = [50, 1000, 2000, 5000, 10_000, 18_000];
        string? idlehold = null;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sockets" when i + 1 < args.Length:
                    sockets = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--idlehold" when i + 1 < args.Length:
                    idlehold = args[++i];
                    break;
                default:
                    if (command == "echo")
                    {
                        break; // the prototype reads its own options
                    }

                    Console.Error.WriteLine($"idle-lab: unknown option {args[i]}");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        switch (command)
        {
            case "cost":
                SelectCost.Run(sockets, ExternalPeers.FindIdlehold(idlehold), Console.Out);
                return 0;
            case "alloc":
                SelectCost.Allocation(Console.Out);
                return 0;
            case "dispose":
                DisposeWhilePolled.Run(sockets, ExternalPeers.FindIdlehold(idlehold), Console.Out);
                return 0;
            case "echo":
                return PrototypeEchoServer.Run(args[1..]);
            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }
}
