using System;

namespace SelectReactor;

/// <summary>What a queued cross-thread request asks the reactor thread to do.</summary>
internal enum WorkKind : byte
{
    Register,
    Unregister,
    AddTimer,
    Post,
    PostWithState,
    Internal,
}

/// <summary>
/// One entry of the reactor's cross-thread queue. A struct, so queueing allocates nothing beyond the queue's
/// amortised segments; <see cref="Post{TState}"/> boxes only a value-type state.
/// </summary>
internal readonly struct WorkItem
{
    private WorkItem(WorkKind kind, object target, object? state, Action<object, object?>? invoker)
    {
        Kind = kind;
        Target = target;
        State = state;
        Invoker = invoker;
    }

    public WorkKind Kind { get; }

    /// <summary>The registration, timer, or delegate to run.</summary>
    public object Target { get; }

    public object? State { get; }

    public Action<object, object?>? Invoker { get; }

    public static WorkItem ForRegistration(WorkKind kind, Registration registration) => new(kind, registration, null, null);

    public static WorkItem ForTimer(ReactorTimer timer) => new(WorkKind.AddTimer, timer, null, null);

    public static WorkItem ForAction(Action action) => new(WorkKind.Post, action, null, null);

    public static WorkItem ForWork(IReactorWork work) => new(WorkKind.Internal, work, null, null);

    public static WorkItem ForAction<TState>(Action<TState> action, TState state) => new(WorkKind.PostWithState, action, state, Post<TState>.Invoke);

    /// <summary>Runs the posted delegate.</summary>
    public void Run()
    {
        if (Kind == WorkKind.Post)
        {
            ((Action)Target)();
        }
        else if (Kind == WorkKind.Internal)
        {
            ((IReactorWork)Target).Run();
        }
        else
        {
            Invoker!(Target, State);
        }
    }

    private static class Post<TState>
    {
        public static readonly Action<object, object?> Invoke = static (action, state) => ((Action<TState>)action)((TState)state!);
    }
}
