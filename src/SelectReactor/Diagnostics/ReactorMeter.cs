namespace SelectReactor;

/// <summary>
/// The names under which the library publishes its <see cref="System.Diagnostics.Metrics"/> instruments, for
/// listening to them without hard-coding strings: <c>meterProviderBuilder.AddMeter(ReactorMeter.Name)</c>, or
/// <c>dotnet-counters monitor --counters SelectReactor</c>.
/// </summary>
public static class ReactorMeter
{
    /// <summary>The meter's name: "SelectReactor". One meter for the process; every instrument is on it.</summary>
    public const string Name = "SelectReactor";

    /// <summary>The tag on every measurement that names the reactor it came from (<see cref="ReactorOptions.Name"/>).</summary>
    public const string ReactorNameTag = "selectreactor.reactor.name";

    /// <summary>The tag on <c>selectreactor.connections.closed</c> that gives the close reason.</summary>
    public const string CloseReasonTag = "selectreactor.connection.close_reason";
}
