using System;
using System.IO;
using Microsoft.Extensions.Logging;

namespace EchoServer;

/// <summary>
/// A one-line-per-message logger to stderr that needs nothing beyond Microsoft.Extensions.Logging.Abstractions.
/// The sample uses it only when the process may open very few descriptors (see <see cref="Logging"/>).
/// </summary>
internal sealed class StderrLoggerProvider(LogLevel minimum) : ILoggerProvider
{
    private readonly TextWriter _error = Console.Error;

    public ILogger CreateLogger(string categoryName) => new StderrLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class StderrLogger(StderrLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string line = $"{Abbreviation(logLevel)}: {category}[{eventId.Id}] {formatter(state, exception)}";
            lock (owner._error)
            {
                owner._error.WriteLine(exception is null ? line : $"{line}{Environment.NewLine}{exception}");
            }
        }

        private static string Abbreviation(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }

    private readonly LogLevel _minimum = minimum;
}
