using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace SelectReactor;

/// <summary>
/// A few descriptors held open on /dev/null while servers accept, and let go the moment accept runs out of them, so
/// that a process whose connections have taken every descriptor still has a handful for everything else during the
/// back-off (libuv's "EMFILE trick" turned around).
/// </summary>
/// <remarks>
/// Why it matters: with no descriptor free, .NET cannot start a thread (the runtime needs a pipe for each, and treats
/// the failure as out of memory, aborting the process), so the first SIGTERM, whose handler runs on a new thread,
/// killed an overloaded server with SIGABRT instead of stopping it gracefully; and any assembly a code path loads for
/// the first time fails to load, and the runtime remembers that failure for good. Accepting stops at
/// <see cref="DefaultSize"/> descriptors short of the limit instead of at the limit (the environment variable
/// <see cref="SizeVariable"/> sets another number; 0 turns the reserve off). Process-wide; thread-safe. Unix only
/// (Windows has no per-process descriptor limit of this kind).
/// </remarks>
internal static class DescriptorReserve
{
    /// <summary>Enough for a thread (2), an assembly load (2 each) and a little more.</summary>
    public const int DefaultSize = 8;

    /// <summary>The environment variable that sets the size (0 turns the reserve off), read when the first server starts.</summary>
    public const string SizeVariable = "SELECTREACTOR_DESCRIPTOR_RESERVE";

    private static readonly Lock Gate = new();
    private static readonly List<SafeFileHandle> Held = new(DefaultSize);
    private static int _size = DefaultSize;
    private static bool _started;

    /// <summary>Descriptors held right now. For tests.</summary>
    internal static int Count
    {
        get
        {
            lock (Gate)
            {
                return Held.Count;
            }
        }
    }

    /// <summary>Takes the reserve, the first time a server starts (while descriptors are still plentiful).</summary>
    public static void Start()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        lock (Gate)
        {
            if (!_started)
            {
                _started = true;
                if (int.TryParse(Environment.GetEnvironmentVariable(SizeVariable), out int size) && size is >= 0 and <= 1024)
                {
                    _size = size;
                }

                Fill();
            }
        }
    }

    /// <summary>Accept ran out of descriptors: free the reserve for the rest of the process.</summary>
    public static void Release()
    {
        lock (Gate)
        {
            foreach (SafeFileHandle handle in Held)
            {
                handle.Dispose();
            }

            Held.Clear();
        }
    }

    /// <summary>
    /// Before accepting again after running out: takes the reserve back and checks that one descriptor more is free
    /// for the next connection. False (and the reserve left free) when there is not that much room yet.
    /// </summary>
    public static bool TryRestore()
    {
        lock (Gate)
        {
            if (!_started || (Fill() && TryOpen() is { } probe && Close(probe)))
            {
                return true;
            }
        }

        Release();
        return false;
    }

    private static bool Fill()
    {
        while (Held.Count < _size)
        {
            if (TryOpen() is not { } handle)
            {
                return false;
            }

            Held.Add(handle);
        }

        return true;
    }

    private static bool Close(SafeFileHandle handle)
    {
        handle.Dispose();
        return true;
    }

    private static SafeFileHandle? TryOpen()
    {
        try
        {
            return File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        }
        catch (IOException)
        {
            return null; // expected when descriptors have run out
        }
        catch (UnauthorizedAccessException)
        {
            return null; // a sandbox without /dev/null: no reserve, accepting works as before
        }
    }
}
