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

    [GeneratedRegex(@"<!-- sample: (?<path>[^ ]+) -->\n```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex SampleBlock();
}
