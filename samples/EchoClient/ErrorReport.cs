using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace EchoClient;

/// <summary>Counts errors from every worker thread and prints the first few, like echoload does.</summary>
internal sealed class ErrorReport(TextWriter output)
{
    private const int Printed = 10;

    private readonly List<string> _first = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The first errors reported, for tests and the final summary.</summary>
    public IReadOnlyList<string> First
    {
        get
        {
            lock (_first)
            {
                return _first.ToArray();
            }
        }
    }

    public void Report(int connection, string message)
    {
        Interlocked.Increment(ref _count);
        lock (_first)
        {
            if (_first.Count >= Printed)
            {
                return;
            }

            string line = connection < 0 ? $"echoclient: {message}" : $"echoclient: conn {connection}: {message}";
            _first.Add(line);
            output.WriteLine(line);
            if (_first.Count == Printed)
            {
                output.WriteLine("echoclient: (further errors not printed)");
            }
        }
    }
}
