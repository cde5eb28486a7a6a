using System;
using System.IO;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EchoClient;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Samples;

/// <summary>The samples with TLS: EchoServer --tls-cert (PEM and PKCS#12) as a process, EchoClient --tls in-process.</summary>
[Collection(SerialCollection.Name)]
public sealed class TlsSampleTests
{
    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public void EchoServer_WithTlsCert_EchoesOverTls_AndExitsZeroOnSigterm(string format)
    {
        (string certificateFile, string keyFile) = TestCertificates.WritePem(TestCertificates.Localhost);
        string arguments = format == "pem"
            ? $"--port 0 --tls-cert {certificateFile} --tls-key {keyFile}"
            : $"--port 0 --tls-cert {WritePfx(certificateFile)}";
        (SampleProcess sample, int port) = SampleProcess.StartListening(arguments);
        using (sample)
        {
            using (var tls = TlsTestClient.Connect(new IPEndPoint(IPAddress.Loopback, port), TestCertificates.TrustingClient()))
            {
                tls.Send("through the sample"u8);
                Encoding.ASCII.GetString(tls.ReadExactly(18)).Should().Be("through the sample");
            }

            sample.Signal(Signals.SIGTERM);
            sample.WaitExit(TimeSpan.FromSeconds(5)).Should().Be(0, "stderr: " + sample.Stderr);
        }
    }

    [Fact]
    public void EchoServer_WithAMissingCertificate_SaysSoAndExitsTwo()
    {
        using SampleProcess sample = SampleProcess.Start("--port 0 --tls-cert /nonexistent/cert.pem");

        sample.WaitExit(Wait.Generous).Should().Be(2);
        sample.Stderr.Should().Contain("cannot load the TLS certificate /nonexistent/cert.pem");
        sample.StdoutLines.Should().BeEmpty();
    }

    [Fact]
    public void EchoClient_WithTls_VerifiesEveryByteAgainstATlsServer()
    {
        using var server = new ServerHarness(() => new TestEchoHandler(), new TcpServerOptions { Tls = TestCertificates.Server() });
        int port = ((IPEndPoint)server.EndPoint).Port;
        ClientOptions? options = ClientOptions.Parse($"--port {port} --tls --conns 10 --size 64 --mode pingpong --duration 0.5 --warmup 0.1 --verify".Split(' '), out string? error);
        options.Should().NotBeNull(error);
        var errors = new StringWriter();

        LoadResult result = LoadRun.Execute(options!, errors);

        result.Errors.Should().Be(0, errors.ToString());
        result.Verified.Should().BeTrue();
        result.Messages.Should().BeGreaterThan(10);
    }

    [Fact]
    public async System.Threading.Tasks.Task ChatServer_WithTlsCert_ChatsOverTls()
    {
        var options = new ChatServer.ChatOptions { Port = 0, TlsCertificate = TestCertificates.Localhost };
        using Microsoft.Extensions.Hosting.IHost host = ChatServer.ChatApp.Build(options);
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<SelectReactor.Hosting.TcpServerRegistry>(host.Services).GetServer<ChatServer.ChatHandler>().LocalEndPoint!;
        using var alice = TlsTestClient.Connect(endPoint, TestCertificates.TrustingClient());
        using var bob = TlsTestClient.Connect(endPoint, TestCertificates.TrustingClient());
        using var aliceLines = new StreamReader(alice.Ssl, Encoding.UTF8, false, 1024, leaveOpen: true);
        using var bobLines = new StreamReader(bob.Ssl, Encoding.UTF8, false, 1024, leaveOpen: true);

        aliceLines.ReadLine().Should().Be("* hello; send your nickname");
        alice.Send("alice\n"u8);
        aliceLines.ReadLine().Should().Be("* welcome alice; online: alice");
        bobLines.ReadLine().Should().Be("* hello; send your nickname");
        bob.Send("bob\n"u8);
        bobLines.ReadLine().Should().Be("* welcome bob; online: alice, bob");
        aliceLines.ReadLine().Should().Be("* bob joined");
        alice.Send("hi over tls\n"u8);

        bobLines.ReadLine().Should().Be("alice: hi over tls");
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    private static string WritePfx(string besidePem)
    {
        string file = Path.Combine(Path.GetDirectoryName(besidePem)!, "cert.pfx");
        File.WriteAllBytes(file, TestCertificates.Localhost.Export(X509ContentType.Pkcs12));
        return file;
    }
}
