using System;
using System.IO;
using System.Text.RegularExpressions;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

/// <summary>The README's code is the samples' code, so the quick start a reader pastes is the one CI compiles.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void Readme_EverySampleBlock_IsIdenticalToTheSampleFile()
    {
        string root = SampleProcess.RepositoryRoot;
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");

        MatchCollection blocks = SampleBlock().Matches(readme);

        blocks.Should().HaveCountGreaterThanOrEqualTo(2);
        foreach (Match block in blocks)
        {
            string file = File.ReadAllText(Path.Combine(root, block.Groups["path"].Value)).ReplaceLineEndings("\n");
            block.Groups["code"].Value.Trim().Should().Be(file.Trim(), $"README block for {block.Groups["path"].Value}");
        }
    }

    [Fact]
    public void PackageReadme_QuickStart_IsTheQuickStartSample()
    {
        // What a newcomer reads on the package's page, pastes into a new console project, and runs: the sample that the
        // process tests run (bad arguments, a port in use, SIGTERM under load). .ci/package-test compiles it against the
        // packed package too.
        string root = SampleProcess.RepositoryRoot;
        string readme = File.ReadAllText(Path.Combine(root, "src/SelectReactor/README.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(Path.Combine(root, "samples/QuickStart/Program.cs")).ReplaceLineEndings("\n");

        Match quickStart = QuickStartBlock().Match(readme);

        quickStart.Success.Should().BeTrue("the package readme has a Quick start with a C# block");
        quickStart.Groups["code"].Value.Trim().Should().Be(sample.Trim());
        readme.Should().Contain("ShutdownSignal").And.Contain("TLS").And.Contain("FramedConnectionHandler");
    }

    [GeneratedRegex(@"<!-- sample: (?<path>[^ ]+) -->\n```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex SampleBlock();

    [GeneratedRegex(@"## Quick start\n.*?```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex QuickStartBlock();
}
