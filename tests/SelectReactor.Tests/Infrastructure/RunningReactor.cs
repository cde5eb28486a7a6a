using System;
using System.Threading;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>A reactor whose <see cref="Reactor.Run"/> goes on a dedicated thread for the life of a test.</summary>
internal sealed class RunningReactor : IDisposable
{
    private readonly Thread _thread;
    private Exception? _loopError;

    /// <param name="options">The reactor's options.</param>
    /// <param name="beforeRun">Runs on the reactor before its loop starts (to reach into its internals).</param>
    public RunningReactor(ReactorOptions? options = null, Action<Reactor>? beforeRun = null)
    {
        Reactor = new Reactor(options);
        beforeRun?.Invoke(Reactor);
        _thread = new Thread(() =>
        {
            try
            {
                Reactor.Run();
            }
            catch (Exception e)
            {
                _loopError = e;
            }
        })
        { IsBackground = true, Name = "test-reactor" };
        _thread.Start();
        Wait.Until(() => ThreadId != 0, "the reactor thread started");
    }

    public Reactor Reactor { get; }

    public int ThreadId => _thread.ManagedThreadId;

    public Exception? LoopError => _loopError;

    /// <summary>Runs <paramref name="func"/> on the reactor thread and returns its result.</summary>
    public T Invoke<T>(Func<T> func)
    {
        var done = new System.Threading.Tasks.TaskCompletionSource<T>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        Reactor.Post(() =>
        {
            try
            {
                done.SetResult(func());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return Wait.Result(done.Task);
    }

    /// <summary>
    /// Bytes the reactor thread allocated while <paramref name="work"/> ran on the calling thread (clients driving a
    /// steady-state load): the reactor's own allocation, read on its thread before and after.
    /// </summary>
    public long AllocatedWhile(Action work)
    {
        long before = Invoke(GC.GetAllocatedBytesForCurrentThread);
        work();
        return Invoke(GC.GetAllocatedBytesForCurrentThread) - before;
    }

    public bool Join() => _thread.Join(Wait.Generous);

    public void Dispose()
    {
        Reactor.Dispose();
        if (!_thread.Join(Wait.Generous))
        {
            throw new TimeoutException("The reactor thread did not finish after Dispose.");
        }
    }
}
