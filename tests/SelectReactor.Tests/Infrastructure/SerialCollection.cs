namespace SelectReactor.Tests.Infrastructure;

/// <summary>Tests that count process-wide resources (descriptors, heap) and must not share the process with others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
