using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

// Baseline: a TLS echo server the way a C# developer writes one without SelectReactor. async/await over SslStream
// over NetworkStream, one task per connection, a 16 KiB buffer per connection, the certificate context built once
// (as Kestrel does). The runtime's SocketAsyncEngine (epoll, with its own I/O threads) does the waiting.
// Same command line as samples/EchoServer with TLS: --host, --port (0 picks a free port), --tls-cert FILE
// [--tls-key FILE] (PEM, or PKCS#12 without a password); prints exactly one line "listening on HOST:PORT"; exits 0
// on SIGTERM or Ctrl+C.
const string Usage = "usage: AsyncTlsEchoServer --tls-cert FILE [--tls-key FILE] [--host 127.0.0.1] [--port 7007]";
string host = "127.0.0.1";
int port = 7007;
string? certificateFile = null;
string? keyFile = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--help" or "-h")
    {
        Console.WriteLine(Usage);
        return 0;
    }

    if (i + 1 < args.Length && args[i] == "--host" && IPAddress.TryParse(args[i + 1], out _))
    {
        host = args[++i];
    }
    else if (i + 1 < args.Length && args[i] == "--port" && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535)
    {
        i++;
    }
    else if (i + 1 < args.Length && args[i] == "--tls-cert")
    {
        certificateFile = args[++i];
    }
    else if (i + 1 < args.Length && args[i] == "--tls-key")
    {
        keyFile = args[++i];
    }
    else
    {
        Console.Error.WriteLine($"error: bad option or value: {args[i]}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}

if (certificateFile is null)
{
    Console.Error.WriteLine("error: --tls-cert is required");
    Console.Error.WriteLine(Usage);
    return 2;
}

X509Certificate2 certificate;
try
{
    certificate = Path.GetExtension(certificateFile).ToLowerInvariant() is ".pfx" or ".p12"
        ? X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password: null)
        : X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
}
catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: cannot load the TLS certificate: {e.Message}");
    return 2;
}

var tls = new SslServerAuthenticationOptions
{
    ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
};

using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Parse(host), port));
listener.Listen(4096);
Console.WriteLine($"listening on {listener.LocalEndPoint}");

using var stop = new CancellationTokenSource();
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

try
{
    while (true)
    {
        Socket client = await listener.AcceptAsync(stop.Token);
        client.NoDelay = true;
        _ = EchoAsync(client, tls, stop.Token);
    }
}
catch (OperationCanceledException)
{
    // SIGTERM or Ctrl+C: stop accepting; open connections end with the process.
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static async Task EchoAsync(Socket client, SslServerAuthenticationOptions tls, CancellationToken cancellationToken)
{
    using (client)
    {
        await using var ssl = new SslStream(new NetworkStream(client, ownsSocket: false));
        byte[] buffer = new byte[16 * 1024];
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                handshake.CancelAfter(TimeSpan.FromSeconds(10));
                await ssl.AuthenticateAsServerAsync(tls, handshake.Token);
            }

            while (true)
            {
                int n = await ssl.ReadAsync(buffer.AsMemory(), cancellationToken);
                if (n == 0)
                {
                    await ssl.ShutdownAsync(); // the peer ended its stream: close_notify, then FIN
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                await ssl.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            // Expected: a failed handshake, a peer that reset, or the server stopping. The connection is over.
        }
    }
}
