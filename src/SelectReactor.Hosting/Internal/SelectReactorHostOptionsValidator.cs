using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Options;

namespace SelectReactor.Hosting;

/// <summary>Checks <see cref="SelectReactorHostOptions"/> when they are first read, and at host start.</summary>
internal sealed class SelectReactorHostOptionsValidator : IValidateOptions<SelectReactorHostOptions>
{
    public ValidateOptionsResult Validate(string? name, SelectReactorHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add("SelectReactorHostOptions.Name must not be empty or white space; the default is \"reactor\".");
        }

        TimeSpan timeout = options.MaxSelectTimeout;
        if (timeout != Timeout.InfiniteTimeSpan && (timeout <= TimeSpan.Zero || timeout > ReactorOptions.MaxTimeout))
        {
            failures.Add($"SelectReactorHostOptions.MaxSelectTimeout must be positive and at most {ReactorOptions.MaxTimeout}, or Timeout.InfiniteTimeSpan; it is {timeout}. The default is 5 seconds.");
        }

        TimeSpan cold = options.MaxColdSocketDelay;
        if (cold != TimeSpan.Zero && (cold < TimeSpan.FromMilliseconds(1) || cold > TimeSpan.FromSeconds(10)))
        {
            failures.Add($"SelectReactorHostOptions.MaxColdSocketDelay must be zero (tiering off) or from 1 millisecond to 10 seconds; it is {cold}. The default is 40 milliseconds.");
        }

        if (options.ReactorCount is < 0 or > 1024)
        {
            failures.Add($"SelectReactorHostOptions.ReactorCount must be from 0 (one per processor) to 1,024; it is {options.ReactorCount}. The default is 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
