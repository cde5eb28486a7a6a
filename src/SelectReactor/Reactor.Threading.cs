using System;
using System.Collections.Concurrent;
using System.Threading;

namespace SelectReactor;

public sealed partial class Reactor
{
    // Everything other threads ask of the reactor, in one FIFO: registrations, unregistrations, timers and posted
    // actions keep the order in which each thread made them.
    private readonly ConcurrentQueue<WorkItem> _queue = new();

    // Set by the shutdown once it has dropped the last queued item; from then on nothing runs on this reactor.
    private bool _queueClosed;

    /// <summary>Runs <paramref name="action"/> on the reactor thread at the start of the next tick. Safe from any thread.</summary>
    /// <param name="action">The work. An exception it throws is logged and the loop goes on.</param>
    /// <remarks>Actions run exactly once, in the order each thread posted them. Actions still queued when the reactor is disposed are dropped.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed, and the call is not from one of its own
    /// callbacks (those of its last tick and the OnClosed calls of its shutdown have their actions dropped instead).</exception>
    public void Post(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Enqueue(new WorkItem(ActionOperation.Instance, action));
    }

    /// <summary>
    /// Runs <paramref name="action"/> with <paramref name="state"/> on the reactor thread at the start of the next
    /// tick. Safe from any thread. A static lambda with explicit state avoids allocating a closure.
    /// </summary>
    /// <typeparam name="TState">The state's type.</typeparam>
    /// <param name="action">The work. An exception it throws is logged and the loop goes on.</param>
    /// <param name="state">Passed to <paramref name="action"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed, and the call is not from one of its own callbacks (see <see cref="Post(Action)"/>).</exception>
    public void Post<TState>(Action<TState> action, TState state)
    {
        ArgumentNullException.ThrowIfNull(action);
        Enqueue(new WorkItem(ActionOperation<TState>.Instance, action, state));
    }

    /// <summary>
    /// Queues library work that is run, or told it was dropped if the reactor is disposed first. Taken from any thread
    /// until the reactor's shutdown has finished: refused, the work knows that nothing of the reactor runs any more.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reactor has shut down (nothing was queued).</exception>
    internal void Post(IReactorWork work) => Enqueue(new WorkItem(LibraryWorkOperation.Instance, work), library: true);

    private void Enqueue(WorkItem item, bool library = false)
    {
        lock (_lifecycleLock)
        {
            // Under the lock so that Dispose and the shutdown, which close the queue under the same lock, never miss
            // an item. Once Dispose is called other threads are refused; the reactor's own callbacks, which still run
            // in its last tick and its shutdown, are not: what they ask for is dropped with the rest, so a Close in
            // an OnClosed never fails for arming its timer.
            ObjectDisposedException.ThrowIf(_queueClosed || (_disposed && !library && _loopThreadId != Environment.CurrentManagedThreadId), this);
            _queue.Enqueue(item);
        }

        WakeIfRunningElsewhere();
    }

    /// <summary>
    /// Runs the items that were queued when the drain began. Items queued meanwhile (an action that posts again)
    /// wait for the next tick, whose select then does not block, so a self-reposting action cannot starve I/O.
    /// </summary>
    private void DrainQueue()
    {
        if (_queue.IsEmpty)
        {
            return; // the common case in a busy loop, and cheaper to ask than Count
        }

        for (int budget = _queue.Count; budget > 0 && _queue.TryDequeue(out WorkItem item); budget--)
        {
            try
            {
                item.Run(this);
            }
            catch (Exception e)
            {
                // Only posted work (the caller's code, or the library's) throws; its bug must not stop the loop.
                Log.PostedActionFault(_logger, _name, e);
            }

            EndOfCallback();
            if (_pendingCloses.Count > 0)
            {
                DeliverCloses();
            }
        }
    }

    /// <summary>Drops everything still queued at shutdown. Returns how many posted actions will never run.</summary>
    private int DropQueue()
    {
        int dropped = 0;
        while (_queue.TryDequeue(out WorkItem item))
        {
            try
            {
                dropped += item.Drop(this) ? 1 : 0;
            }
            catch (Exception e)
            {
                // Releasing must not stop the shutdown; it is the library's own code, so log it loudly.
                Log.PostedActionFault(_logger, _name, e);
            }
        }

        return dropped;
    }

    /// <summary>The shutdown's last step: closes the queue if it is empty, or returns false when there is more to drop first.</summary>
    private bool TryCloseQueue()
    {
        lock (_lifecycleLock)
        {
            _queueClosed = _queue.IsEmpty;
            return _queueClosed;
        }
    }

    /// <summary>
    /// Whether Register refuses: from other threads once Dispose is called, from the reactor's own callbacks once its
    /// shutdown has begun (a registration made in the last tick is closed with the rest; one made in an OnClosed of
    /// the shutdown could be reopened by its own OnClosed for ever).
    /// </summary>
    private bool RefusesRegistration(bool onThread) => Volatile.Read(ref _shutDown) || (Volatile.Read(ref _disposed) && !onThread);

    /// <summary>A registration made off the reactor thread: it joins the table, or is closed if the reactor goes first.</summary>
    private sealed class RegisterOperation : WorkOperation
    {
        public static readonly RegisterOperation Instance = new();

        public override void Run(Reactor reactor, object target, object? state) => reactor.AddToTable((Registration)target);

        public override bool Drop(Reactor reactor, object target, object? state)
        {
            // As in AddToTable: one disposed while still queued was unregistered by its owner before the reactor went.
            var registration = (Registration)target;
            reactor.Close(registration, registration.IsActive ? CloseReason.ReactorDisposed : CloseReason.Unregistered, null);
            return false;
        }
    }

    /// <summary>An unregistration made off the reactor thread: closed as asked, whether or not the reactor runs again.</summary>
    private sealed class UnregisterOperation : WorkOperation
    {
        public static readonly UnregisterOperation Instance = new();

        public override void Run(Reactor reactor, object target, object? state) => reactor.Close((Registration)target, CloseReason.Unregistered, null);

        public override bool Drop(Reactor reactor, object target, object? state)
        {
            Run(reactor, target, state);
            return false;
        }
    }

    /// <summary>A timer scheduled off the reactor thread: it joins the heap, or is forgotten with the heap.</summary>
    private sealed class AddTimerOperation : WorkOperation
    {
        public static readonly AddTimerOperation Instance = new();

        public override void Run(Reactor reactor, object target, object? state) => reactor.AddTimer((ReactorTimer)target);

        public override bool Drop(Reactor reactor, object target, object? state) => false;
    }

    /// <summary><see cref="Post(Action)"/>: a callback, counted as dispatched; dropped at shutdown.</summary>
    private sealed class ActionOperation : WorkOperation
    {
        public static readonly ActionOperation Instance = new();

        public override void Run(Reactor reactor, object target, object? state)
        {
            reactor._dispatched++;
            ((Action)target)();
        }

        public override bool Drop(Reactor reactor, object target, object? state) => true;
    }

    /// <summary><see cref="Post{TState}(Action{TState}, TState)"/>: as <see cref="ActionOperation"/>, with its state.</summary>
    private sealed class ActionOperation<TState> : WorkOperation
    {
        public static readonly ActionOperation<TState> Instance = new();

        public override void Run(Reactor reactor, object target, object? state)
        {
            reactor._dispatched++;
            ((Action<TState>)target)((TState)state!);
        }

        public override bool Drop(Reactor reactor, object target, object? state) => true;
    }

    /// <summary><see cref="Post(IReactorWork)"/>: library work that must release what it holds if it never runs.</summary>
    private sealed class LibraryWorkOperation : WorkOperation
    {
        public static readonly LibraryWorkOperation Instance = new();

        public override void Run(Reactor reactor, object target, object? state)
        {
            reactor._dispatched++;
            ((IReactorWork)target).Run();
        }

        public override bool Drop(Reactor reactor, object target, object? state)
        {
            ((IReactorWork)target).Drop();
            return true;
        }
    }
}
