using System;
using System.Collections.Generic;

namespace SelectReactor.Hosting;

/// <summary>
/// The reactors the host runs: one <see cref="Reactor"/> on the hosted service's own thread (the default), or a
/// <see cref="ReactorGroup"/> running its own threads when <see cref="SelectReactorHostOptions.ReactorCount"/> is not 1.
/// </summary>
internal sealed class HostedReactors : IDisposable
{
    public HostedReactors(SelectReactorHostOptions options, ReactorOptions reactorOptions)
    {
        if (options.ReactorCount == 1)
        {
            Primary = new Reactor(reactorOptions);
            All = [Primary];
        }
        else
        {
            Group = new ReactorGroup(options.ReactorCount, reactorOptions);
            Primary = Group.Reactors[0];
            All = Group.Reactors;
        }
    }

    /// <summary>The one reactor, or the group's first (where listeners run).</summary>
    public Reactor Primary { get; }

    /// <summary>The group, or null when the host runs one reactor.</summary>
    public ReactorGroup? Group { get; }

    public IReadOnlyList<Reactor> All { get; }

    /// <summary>True on a thread running one of these reactors' callbacks.</summary>
    public bool IsOnReactorThread
    {
        get
        {
            foreach (Reactor reactor in All)
            {
                if (reactor.IsOnReactorThread)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public void Dispose()
    {
        if (Group is null)
        {
            Primary.Dispose();
        }
        else
        {
            Group.Dispose();
        }
    }
}
