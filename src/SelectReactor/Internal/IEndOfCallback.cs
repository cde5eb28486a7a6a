namespace SelectReactor;

/// <summary>
/// Work that waits for the end of the reactor callback in which it was asked for: a connection's batched output is
/// flushed there, so that everything one callback wrote to one connection leaves in one send. See
/// <see cref="Reactor.RunAtEndOfCallback"/>.
/// </summary>
internal interface IEndOfCallback
{
    /// <summary>Runs on the reactor thread once the callback that asked for it has returned. Must not throw.</summary>
    void OnEndOfCallback();
}
