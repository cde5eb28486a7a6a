using System;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using EchoClient;

// A load client built on the library's TcpConnector and TcpConnection; see ClientOptions.Usage. Stdout carries only
// the final RESULT line; errors go to stderr.
ClientOptions? options = ClientOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(ClientOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(ClientOptions.Usage);
    return 0;
}

// How long the runtime took to get here, so a harness can place the measured window on its own clock
// (echoload starts in about a millisecond; the runtime takes tens of them).
double startup;
using (var self = Process.GetCurrentProcess())
{
    startup = Math.Max(0, (DateTime.Now - self.StartTime).TotalSeconds);
}

LoadResult result;
try
{
    result = LoadRun.Execute(options, Console.Error);
}
catch (SocketException e)
{
    Console.Error.WriteLine($"error: cannot resolve {options.Host}: {e.Message}");
    return 2;
}

Console.WriteLine(result.ToResultLine() + string.Create(CultureInfo.InvariantCulture, $" startup_s={startup:0.000}"));
return result.Errors == 0 ? 0 : 1;
