namespace SelectReactor;

/// <summary>
/// What one kind of queued work does: how it runs on the reactor thread, and what becomes of it when the reactor is
/// disposed before running it. Each kind is one shared, stateless instance (see <see cref="Reactor"/>'s nested
/// operations); the item's target and state travel in the <see cref="WorkItem"/>.
/// </summary>
internal abstract class WorkOperation
{
    /// <summary>Runs the work on the reactor thread. Posted work may throw; the reactor logs it and goes on.</summary>
    public abstract void Run(Reactor reactor, object target, object? state);

    /// <summary>
    /// The reactor is shutting down without running the work: close or release what it holds. On the thread that
    /// shuts the reactor down. Returns true when the work was a posted action that will now never run.
    /// </summary>
    public abstract bool Drop(Reactor reactor, object target, object? state);
}
