using BenchmarkDotNet.Running;

namespace SelectReactor.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release -- --filter '*TickOverhead*' --job short</c>, or
/// <c>dotnet run -c Release -- idle-lab ...</c> for the idle-connection measurements (IdleLab/).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "idle-lab")
        {
            return IdleLab.IdleLabProgram.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
