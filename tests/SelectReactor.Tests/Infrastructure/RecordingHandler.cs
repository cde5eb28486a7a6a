using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace SelectReactor.Tests.Infrastructure;

/// <summary>An <see cref="IEventHandler"/> that records every callback and lets a test hook any of them.</summary>
internal sealed class RecordingHandler : IEventHandler
{
    private readonly TaskCompletionSource<(CloseReason Reason, Exception? Error)> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closedCount;

    public ConcurrentQueue<string> Events { get; } = new();

    public ConcurrentBag<int> CallbackThreads { get; } = new();

    public Action<Registration>? Readable { get; set; }

    public Action<Registration>? Writable { get; set; }

    public Action<Registration>? Error { get; set; }

    public Action<Registration, CloseReason, Exception?>? Closed { get; set; }

    public int ReadableCount => Events.Count(e => e == "readable");

    public int WritableCount => Events.Count(e => e == "writable");

    public int ErrorCount => Events.Count(e => e == "error");

    public int ClosedCount => Volatile.Read(ref _closedCount);

    public Task<(CloseReason Reason, Exception? Error)> ClosedTask => _closed.Task;

    public (CloseReason Reason, Exception? Error) WaitClosed() => Wait.Result(_closed.Task);

    public IReadOnlyList<string> Snapshot() => Events.ToArray();

    public void OnReadable(Registration registration)
    {
        Record("readable");
        Readable?.Invoke(registration);
    }

    public void OnWritable(Registration registration)
    {
        Record("writable");
        Writable?.Invoke(registration);
    }

    public void OnError(Registration registration)
    {
        Record("error");
        Error?.Invoke(registration);
    }

    public void OnClosed(Registration registration, CloseReason reason, Exception? error)
    {
        Record("closed:" + reason);
        Interlocked.Increment(ref _closedCount);
        Closed?.Invoke(registration, reason, error);
        _closed.TrySetResult((reason, error));
    }

    private void Record(string what)
    {
        CallbackThreads.Add(Environment.CurrentManagedThreadId);
        Events.Enqueue(what);
    }
}
