using System;
using System.Collections.Concurrent;
using System.Threading;

namespace SelectReactor;

public sealed partial class Reactor
{
    // Everything other threads ask of the reactor, in one FIFO: registrations, unregistrations, timers and posted
    // actions keep the order in which each thread made them.
    private readonly ConcurrentQueue<WorkItem> _queue = new();

    /// <summary>Runs <paramref name="action"/> on the reactor thread at the start of the next tick. Safe from any thread.</summary>
    /// <param name="action">The work. An exception it throws is logged and the loop goes on.</param>
    /// <remarks>Actions run exactly once, in the order each thread posted them. Actions still queued when the reactor is disposed are dropped.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public void Post(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Enqueue(WorkItem.ForAction(action));
    }

    /// <summary>
    /// Runs <paramref name="action"/> with <paramref name="state"/> on the reactor thread at the start of the next
    /// tick. Safe from any thread. A static lambda with explicit state avoids allocating a closure.
    /// </summary>
    /// <typeparam name="TState">The state's type.</typeparam>
    /// <param name="action">The work. An exception it throws is logged and the loop goes on.</param>
    /// <param name="state">Passed to <paramref name="action"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The reactor is disposed.</exception>
    public void Post<TState>(Action<TState> action, TState state)
    {
        ArgumentNullException.ThrowIfNull(action);
        Enqueue(WorkItem.ForAction(action, state));
    }

    /// <summary>Queues library work that is run, or told it was dropped if the reactor is disposed first.</summary>
    /// <exception cref="ObjectDisposedException">The reactor is disposed (nothing was queued).</exception>
    internal void Post(IReactorWork work) => Enqueue(WorkItem.ForWork(work));

    private void Enqueue(WorkItem item)
    {
        lock (_lifecycleLock)
        {
            // Under the lock so that Dispose, which closes the queue under the same lock, never misses an item.
            ObjectDisposedException.ThrowIf(_disposed, this);
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
            switch (item.Kind)
            {
                case WorkKind.Register:
                    AddToTable((Registration)item.Target);
                    break;
                case WorkKind.Unregister:
                    Close((Registration)item.Target, CloseReason.Unregistered, null);
                    break;
                case WorkKind.AddTimer:
                    AddTimer((ReactorTimer)item.Target);
                    break;
                default:
                    _dispatched++;
                    try
                    {
                        item.Run();
                    }
                    catch (Exception e)
                    {
                        // A posted action's bug is logged; it must not stop the loop.
                        Log.PostedActionFault(_logger, _name, e);
                    }

                    break;
            }

            EndOfCallback();
            if (_pendingCloses.Count > 0)
            {
                DeliverCloses();
            }
        }
    }
}
