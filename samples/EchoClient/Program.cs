using System;
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

Console.WriteLine(result.ToResultLine());
return result.Errors == 0 ? 0 : 1;
