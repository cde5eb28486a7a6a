using BenchmarkDotNet.Running;

namespace SelectReactor.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release -- --filter '*TickOverhead*' --job short</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
