using System;
using System.Collections.Generic;
using System.Threading;

namespace SelectReactor;

/// <summary>
/// N reactors, each running on a dedicated thread of its own, for using several cores. Work is spread by handing
/// each new socket to one reactor (see <see cref="Net.TcpServer"/>'s group constructor); a socket then stays on that
/// reactor for life, so its handler still needs no locks.
/// </summary>
/// <remarks>
/// The threads start in the constructor and stop in <see cref="Dispose"/>. Every member is safe from any thread.
/// </remarks>
public sealed class ReactorGroup : IDisposable
{
    private readonly Reactor[] _reactors;
    private readonly Thread[] _threads;
    private readonly Exception?[] _failures;
    private int _next = -1;
    private int _disposed;

    /// <summary>Creates <paramref name="count"/> reactors and starts a thread running each.</summary>
    /// <param name="count">How many reactors; 0 (default) means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="options">Settings shared by every reactor; each is named "<c>{Name}-{index}</c>" (default name "reactor").</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or above 1,024.</exception>
    public ReactorGroup(int count = 0, ReactorOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 1024);
        count = count == 0 ? Environment.ProcessorCount : count;
        options ??= new ReactorOptions();
        string name = options.Name ?? "reactor";
        _reactors = new Reactor[count];
        _threads = new Thread[count];
        _failures = new Exception?[count];
        for (int i = 0; i < count; i++)
        {
            _reactors[i] = new Reactor(options.CopyNamed($"{name}-{i}"));
        }

        for (int i = 0; i < count; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => RunLoop(index)) { IsBackground = true, Name = _reactors[i].Name };
            _threads[i].Start();
        }
    }

    /// <summary>The reactors, in a fixed order.</summary>
    public IReadOnlyList<Reactor> Reactors => _reactors;

    /// <summary>How many reactors the group has.</summary>
    public int Count => _reactors.Length;

    /// <summary>The next reactor in round-robin order.</summary>
    public Reactor Next()
    {
        uint index = (uint)Interlocked.Increment(ref _next);
        return _reactors[index % (uint)_reactors.Length];
    }

    /// <summary>The reactor with the fewest registrations right now (ties go to the lowest index).</summary>
    public Reactor LeastLoaded()
    {
        Reactor best = _reactors[0];
        int bestCount = best.RegistrationCount;
        for (int i = 1; i < _reactors.Length; i++)
        {
            int count = _reactors[i].RegistrationCount;
            if (count < bestCount)
            {
                best = _reactors[i];
                bestCount = count;
            }
        }

        return best;
    }

    /// <summary>
    /// Stops every loop and disposes every reactor (closing their registrations with
    /// <see cref="CloseReason.ReactorDisposed"/>), then waits for the threads to end. Idempotent.
    /// </summary>
    /// <remarks>
    /// Safe from any thread, including one of the group's own reactor threads (from inside a callback, for example a
    /// "shut down" command handled on a connection): it then stops and waits for the other reactors, and returns
    /// without waiting for its own thread, whose reactor closes its registrations as soon as the running callback
    /// returns. A failure of that one loop cannot be reported by this call.
    /// </remarks>
    /// <exception cref="AggregateException">A loop had failed (its exception, for example repeated unexplained
    /// select failures, is inside); the group is disposed all the same.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Reactor.Dispose from its own thread only marks it disposed (the loop closes everything on its way out), and
        // from any other thread waits for that loop to finish; so the one thread to skip when joining is our own.
        Thread current = Thread.CurrentThread;
        foreach (Reactor reactor in _reactors)
        {
            reactor.Dispose();
        }

        foreach (Thread thread in _threads)
        {
            if (thread != current)
            {
                thread.Join();
            }
        }

        var failures = new List<Exception>();
        foreach (Exception? failure in _failures)
        {
            if (failure is not null)
            {
                failures.Add(failure);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("A reactor of the group failed.", failures);
        }
    }

    private void RunLoop(int index)
    {
        try
        {
            _reactors[index].Run();
        }
        catch (ObjectDisposedException)
        {
            // Expected: disposed before its thread got to run it.
        }
        catch (Exception e)
        {
            // Kept for Dispose to report; a dedicated thread must not take the process down.
            _failures[index] = e;
        }
    }
}
