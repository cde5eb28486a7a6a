using System;
using System.Threading;

namespace SelectReactor.Hosting;

/// <summary>
/// Settings of the reactor that <c>AddSelectReactor</c> runs in the
/// generic host. Read once, when the reactor is first resolved.
/// </summary>
/// <remarks>
/// Unlike the library's own options, the setters do not throw: these options may be bound from configuration, so
/// they are checked by options validation instead, and a bad value fails the host's start with an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> that lists every problem at once.
/// Configure them on the thread that builds the host.
/// </remarks>
public sealed class SelectReactorHostOptions
{
    /// <summary>
    /// The reactor's name, used in its logs and as the name of its thread. Default "reactor". Must not be empty or
    /// white space.
    /// </summary>
    public string Name { get; set; } = "reactor";

    /// <summary>
    /// The longest one tick waits in <c>Socket.Select</c> when no timer is due sooner; see
    /// <see cref="ReactorOptions.MaxSelectTimeout"/>. Default 5 seconds. Any positive value up to
    /// <see cref="ReactorOptions.MaxTimeout"/>, or <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public TimeSpan MaxSelectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a busy reactor may take to notice a socket that had gone quiet; see
    /// <see cref="ReactorOptions.MaxColdSocketDelay"/>. Default 40 milliseconds. <see cref="TimeSpan.Zero"/> puts
    /// every socket in every select; otherwise between 1 millisecond and 10 seconds.
    /// </summary>
    public TimeSpan MaxColdSocketDelay { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// How many reactors to run, each on a thread of its own. Default 1: one <see cref="Reactor"/>. Above 1 the host
    /// runs a <see cref="ReactorGroup"/> (resolve it to spread work of your own) and every server added with
    /// <see cref="SelectReactorServiceCollectionExtensions.AddTcpServer{THandler}(Microsoft.Extensions.DependencyInjection.IServiceCollection, System.Net.EndPoint, Action{Net.TcpServerOptions}?)"/>
    /// spreads its connections over the group, each connection staying on one reactor; the resolvable
    /// <see cref="Reactor"/> is then the group's first. 0 means one per processor. At most 1,024.
    /// </summary>
    public int ReactorCount { get; set; } = 1;
}
