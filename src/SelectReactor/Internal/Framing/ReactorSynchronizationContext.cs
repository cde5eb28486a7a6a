using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SelectReactor.Net;

/// <summary>
/// Sends <c>await</c> continuations back to a reactor: <see cref="Post"/> queues the callback with
/// <see cref="Reactor.Post{TState}(Action{TState}, TState)"/>, and runs it with this context current, so the code
/// after every <c>await</c> in a handler runs on the reactor thread. One instance per reactor.
/// </summary>
/// <remarks>
/// Posting allocates nothing in the steady state: the runtime posts its continuations through one or two static
/// callbacks, and each gets a wrapper once, kept in a small copy-on-write cache. When the reactor is disposed,
/// continuations posted afterwards are dropped (there is no reactor thread left to run them on); the connections
/// they belonged to were closed with <see cref="Net.ConnectionCloseReason.ReactorDisposed"/>.
/// </remarks>
internal sealed class ReactorSynchronizationContext : SynchronizationContext
{
    private const int MaxCachedCallbacks = 8;
    private static readonly ConditionalWeakTable<Reactor, ReactorSynchronizationContext> Contexts = new();

    private readonly Reactor _reactor;
    private Wrapper[] _wrappers = [];

    private ReactorSynchronizationContext(Reactor reactor) => _reactor = reactor;

    public Reactor Reactor => _reactor;

    /// <summary>The context of <paramref name="reactor"/>, made on first use.</summary>
    public static ReactorSynchronizationContext For(Reactor reactor) => Contexts.GetValue(reactor, static r => new ReactorSynchronizationContext(r));

    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        try
        {
            _reactor.Post(WrapperFor(d).Invoke, state);
        }
        catch (ObjectDisposedException)
        {
            // The reactor is gone: nothing may run on its thread any more, so the continuation is dropped.
        }
    }

    /// <summary>Runs at once on the reactor thread; from another thread there is no safe way to wait, so it throws.</summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (!_reactor.IsOnReactorThread)
        {
            throw new NotSupportedException("Synchronous calls into a reactor from another thread are not supported; use Post.");
        }

        d(state);
    }

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs <paramref name="callback"/> with this context current, restoring the previous one after.</summary>
    public void Run(SendOrPostCallback callback, object? state)
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            callback(state);
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    private Wrapper WrapperFor(SendOrPostCallback callback)
    {
        Wrapper[] wrappers = Volatile.Read(ref _wrappers);
        foreach (Wrapper wrapper in wrappers)
        {
            if (ReferenceEquals(wrapper.Callback, callback))
            {
                return wrapper;
            }
        }

        var created = new Wrapper(this, callback);
        if (wrappers.Length < MaxCachedCallbacks)
        {
            // Copy-on-write; a lost race only costs the loser's entry, found again next time.
            Wrapper[] grown = [.. wrappers, created];
            Interlocked.CompareExchange(ref _wrappers, grown, wrappers);
        }

        return created;
    }

    /// <summary>A callback and the delegate that runs it on the reactor with the context current.</summary>
    private sealed class Wrapper
    {
        public Wrapper(ReactorSynchronizationContext context, SendOrPostCallback callback)
        {
            Callback = callback;
            Invoke = state => context.Run(callback, state);
        }

        public SendOrPostCallback Callback { get; }

        public Action<object?> Invoke { get; }
    }
}
