namespace SelectReactor;

/// <summary>
/// One entry of the reactor's cross-thread queue: what to act on, and the <see cref="WorkOperation"/> that runs it on
/// the reactor thread or drops it if the reactor is disposed first. A struct over shared, stateless operations, so
/// queueing allocates nothing beyond the queue's amortised segments;
/// <see cref="Reactor.Post{TState}(System.Action{TState}, TState)"/> boxes only a value-type state.
/// </summary>
internal readonly struct WorkItem
{
    private readonly WorkOperation _operation;
    private readonly object _target;
    private readonly object? _state;

    public WorkItem(WorkOperation operation, object target, object? state = null)
    {
        _operation = operation;
        _target = target;
        _state = state;
    }

    /// <summary>Runs the work. Reactor thread only.</summary>
    public void Run(Reactor reactor) => _operation.Run(reactor, _target, _state);

    /// <summary>Releases the work the disposed reactor will never run. Returns true for a posted action dropped.</summary>
    public bool Drop(Reactor reactor) => _operation.Drop(reactor, _target, _state);
}
