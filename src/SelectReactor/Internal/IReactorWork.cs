namespace SelectReactor;

/// <summary>
/// Work the library hands to a reactor that must not simply vanish if the reactor is disposed before running it
/// (a socket travelling to another reactor would leak): it is either run, or told it was dropped. Never both.
/// </summary>
internal interface IReactorWork
{
    /// <summary>Runs on the reactor thread.</summary>
    void Run();

    /// <summary>The reactor was disposed first; release whatever the work holds. On the disposing thread.</summary>
    void Drop();
}
