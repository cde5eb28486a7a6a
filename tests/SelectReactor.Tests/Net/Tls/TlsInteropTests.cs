using System;
using System.Collections.Concurrent;
using System.Net.Security;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net.Tls;

/// <summary>OpenSSL's s_client, a third-party TLS implementation, against the library's TLS server.</summary>
public sealed class TlsInteropTests
{
    [OpenSslTheory]
    [InlineData("-tls1_3", "TLSv1.3")]
    [InlineData("-tls1_2", "TLSv1.2")]
    public void OpenSslClient_Echoes_AndItsCloseNotifyEndsTheConnectionGracefully(string flag, string protocol)
    {
        var closes = new ConcurrentQueue<ConnectionCloseReason>();
        using var harness = new ServerHarness(() => new DelegateHandler { Closed = (_, reason, _) => closes.Enqueue(reason) }, new TcpServerOptions { Tls = TestCertificates.Server() });

        (int exit, string stdout, _) = OpenSslClient.Run(harness.EndPoint, flag, ["first line", "second line"], TimeSpan.FromMilliseconds(100));

        stdout.Should().Contain("first line").And.Contain("second line");
        stdout.Should().Contain($"Protocol  : {protocol}").And.Contain("Verify return code: 18", "a self-signed certificate, seen for what it is");
        exit.Should().Be(0, "s_client ended cleanly: it sent close_notify at the end of its input and the server closed in turn");
        Wait.Until(() => closes.Count == 1, "the connection ended");
        closes.Should().Equal(ConnectionCloseReason.RemoteClose);
    }

    [OpenSslFact]
    public void OpenSslClient_AlpnAndSni_AreNegotiated()
    {
        var seen = new ConcurrentQueue<TlsConnectionInfo>();
        var server = new SslServerAuthenticationOptions
        {
            ServerCertificateSelectionCallback = (_, name) => name == "beta.test" ? TestCertificates.Beta : TestCertificates.Alpha,
            ApplicationProtocols = [new SslApplicationProtocol("echo/1"), SslApplicationProtocol.Http11],
        };
        using var harness = new ServerHarness(() => new DelegateHandler { Connected = c => seen.Enqueue(c.Tls!) }, new TcpServerOptions { Tls = server });

        (_, string stdout, _) = OpenSslClient.Run(harness.EndPoint, "-servername beta.test -alpn echo/1", ["x"], TimeSpan.FromMilliseconds(100));

        stdout.Should().Contain("ALPN protocol: echo/1");
        stdout.Should().Contain("CN = beta.test", "the certificate chosen for the SNI name");
        Wait.Until(() => !seen.IsEmpty, "the connection opened");
        seen.TryPeek(out TlsConnectionInfo? info).Should().BeTrue();
        info!.HostName.Should().Be("beta.test");
        info.ApplicationProtocol.ToString().Should().Be("echo/1");
    }

    [OpenSslFact]
    public void OpenSslClient_WithARequiredClientCertificate_IsAccepted()
    {
        var thumbprints = new ConcurrentQueue<string?>();
        SslServerAuthenticationOptions server = TestCertificates.Server();
        server.ClientCertificateRequired = true;
        server.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificates.Client.Thumbprint;
        using var harness = new ServerHarness(() => new DelegateHandler { Connected = c => thumbprints.Enqueue(c.Tls!.RemoteCertificate?.Thumbprint) }, new TcpServerOptions { Tls = server });
        (string certificateFile, string keyFile) = TestCertificates.WritePem(TestCertificates.Client);

        (_, string stdout, _) = OpenSslClient.Run(harness.EndPoint, $"-cert {certificateFile} -key {keyFile}", ["with certificate"], TimeSpan.FromMilliseconds(100));

        stdout.Should().Contain("with certificate", "echoed");
        thumbprints.Should().Equal(TestCertificates.Client.Thumbprint);
    }
}
