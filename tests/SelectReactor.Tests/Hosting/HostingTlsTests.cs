using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelectReactor.Hosting;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Hosting;

public sealed class HostingTlsTests
{
    [Fact]
    public async Task AddTcpServer_WithTlsOptions_ServesTls()
    {
        using IHost host = TestHost.Build(services => services
            .AddTcpServer<TestEchoHandler>(new IPEndPoint(IPAddress.Loopback, 0), options => options.Tls = TestCertificates.Server()));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer<TestEchoHandler>().LocalEndPoint!;

        using (var tls = TlsTestClient.Connect(endPoint, TestCertificates.TrustingClient()))
        {
            tls.Send("hosted tls"u8);
            Encoding.ASCII.GetString(tls.ReadExactly(10)).Should().Be("hosted tls");
        }

        await host.StopAsync().WaitAsync(Wait.Generous);
    }
}

public sealed class HostingTlsConfigurationTests
{
    [Fact]
    public async Task Configuration_TlsSection_LoadsThePemCertificate_AndServesTlsWithItsSettings()
    {
        (string certificateFile, string keyFile) = TestCertificates.WritePem(TestCertificates.Localhost);
        IConfiguration configuration = TestHost.Configuration(new Dictionary<string, string?>
        {
            ["Servers:echo:EndPoint"] = "127.0.0.1:0",
            ["Servers:echo:Tls:Certificate:Path"] = certificateFile,
            ["Servers:echo:Tls:Certificate:KeyPath"] = keyFile,
            ["Servers:echo:Tls:HandshakeTimeout"] = "00:00:05",
            ["Servers:echo:Tls:Protocols"] = "Tls13",
            ["Servers:echo:Tls:ApplicationProtocols"] = "echo/1, http/1.1",
        });
        TcpServerOptions? seen = null;
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>("echo", configuration.GetSection("Servers:echo"), options => seen = options));
        await host.StartAsync().WaitAsync(Wait.Generous);
        EndPoint endPoint = host.Services.GetRequiredService<TcpServerRegistry>().GetServer("echo").LocalEndPoint!;
        SslClientAuthenticationOptions client = TestCertificates.TrustingClient();
        client.ApplicationProtocols = [new SslApplicationProtocol("echo/1")];

        using (var tls = TlsTestClient.Connect(endPoint, client))
        {
            tls.Send("configured"u8);
            Encoding.ASCII.GetString(tls.ReadExactly(10)).Should().Be("configured");
            tls.Ssl.SslProtocol.Should().Be(SslProtocols.Tls13);
            tls.Ssl.NegotiatedApplicationProtocol.ToString().Should().Be("echo/1");
        }

        seen!.TlsHandshakeTimeout.Should().Be(TimeSpan.FromSeconds(5));
        await host.StopAsync().WaitAsync(Wait.Generous);
    }

    [Theory]
    [InlineData("Tls:Certificat:Path", "x", "Configuration Servers:echo:Tls:Certificat is not a setting*")]
    [InlineData("Tls:Protocols", "Tls12", "Configuration Servers:echo:Tls:Certificate:Path is missing*")]
    [InlineData("Tls:Certificate:Path", "/nonexistent/cert.pem", "Configuration Servers:echo:Tls:Certificate:Path = '/nonexistent/cert.pem': cannot load the certificate*")]
    public async Task Configuration_BadTlsSection_FailsTheStartNamingTheKey(string key, string value, string message)
    {
        IConfiguration configuration = TestHost.Configuration(new Dictionary<string, string?>
        {
            ["Servers:echo:EndPoint"] = "127.0.0.1:0",
            ["Servers:echo:" + key] = value,
        });
        using IHost host = TestHost.Build(services => services.AddTcpServer<TestEchoHandler>("echo", configuration.GetSection("Servers:echo")));

        Func<Task> start = () => host.StartAsync().WaitAsync(Wait.Generous);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage(message);
    }
}
