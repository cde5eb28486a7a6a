using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using SelectReactor.Net;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Net.Tls;

/// <summary>How the user's TLS options are taken: copied, never changed, every property carried over.</summary>
public sealed class TlsOptionsTests
{
    [Fact]
    public void Copy_CarriesEverySettablePropertyOfBothOptionTypes()
    {
        // Every settable property set to something other than its default; a property the runtime adds later and
        // the copy misses fails here.
        var server = new SslServerAuthenticationOptions();
        var client = new SslClientAuthenticationOptions();
        Fill(server);
        Fill(client);

        SslServerAuthenticationOptions serverCopy = TlsOptions.Copy(server);
        SslClientAuthenticationOptions clientCopy = TlsOptions.Copy(client);

        foreach (PropertyInfo property in Settable(typeof(SslServerAuthenticationOptions)))
        {
            property.GetValue(serverCopy).Should().Be(property.GetValue(server), $"{property.Name} is copied");
        }

        foreach (PropertyInfo property in Settable(typeof(SslClientAuthenticationOptions)))
        {
            property.GetValue(clientCopy).Should().Be(property.GetValue(client), $"{property.Name} is copied");
        }
    }

    [Fact]
    public void ServerCertificateWithoutItsPrivateKey_IsRefusedWhenTheServerIsMade_NotAtEveryHandshake()
    {
        // Before, the server started and every handshake failed, logged at Debug only: an operator saw nothing.
        using X509Certificate2 noKey = X509CertificateLoader.LoadCertificate(TestCertificates.Localhost.RawData);
        noKey.HasPrivateKey.Should().BeFalse();
        using var running = new RunningReactor();

        // (A certificate context cannot be made from such a certificate: SslStreamCertificateContext.Create refuses it.)
        var tls = new SslServerAuthenticationOptions { ServerCertificate = noKey };
        FluentActions.Invoking(() => new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), new TcpServerOptions { Tls = tls }))
            .Should().Throw<ArgumentException>().WithMessage("*has no private key*CreateFromPemFile*");

        // With its key, as before.
        FluentActions.Invoking(() => new TcpServer(running.Reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new TestEchoHandler(), new TcpServerOptions { Tls = TestCertificates.Server() }))
            .Should().NotThrow();
    }

    [Fact]
    public void PrepareServer_RefusesRenegotiation_BuildsTheCertificateContextOnce_AndLeavesTheUsersObjectAlone()
    {
        SslServerAuthenticationOptions user = TestCertificates.Server();
        user.AllowRenegotiation = true;

        SslServerAuthenticationOptions prepared = TlsOptions.PrepareServer(user);

        prepared.Should().NotBeSameAs(user);
        prepared.AllowRenegotiation.Should().BeFalse();
        prepared.ServerCertificateContext.Should().NotBeNull();
        prepared.ServerCertificateContext!.TargetCertificate.Thumbprint.Should().Be(TestCertificates.Localhost.Thumbprint);
        prepared.ServerCertificate.Should().BeNull();
        user.AllowRenegotiation.Should().BeTrue("the user's object is never changed");
        user.ServerCertificate.Should().BeSameAs(TestCertificates.Localhost);
        user.ServerCertificateContext.Should().BeNull();
    }

    [Fact]
    public void Server_WithTlsButNoCertificate_ThrowsAtConstruction()
    {
        using var reactor = new Reactor();

        Action create = () => _ = new TcpServer(reactor, new IPEndPoint(IPAddress.Loopback, 0), () => new DelegateHandler(), new TcpServerOptions { Tls = new SslServerAuthenticationOptions() });

        create.Should().Throw<ArgumentException>().WithMessage("*ServerCertificate*");
    }

    [Fact]
    public void ForClient_WithoutTargetHost_NamesTheHostOfADnsEndPoint_InACopy()
    {
        var user = new SslClientAuthenticationOptions();

        SslClientAuthenticationOptions forName = TlsOptions.ForClient(user, new DnsEndPoint("example.test", 443));
        SslClientAuthenticationOptions forAddress = TlsOptions.ForClient(user, new IPEndPoint(IPAddress.Loopback, 443));

        forName.TargetHost.Should().Be("example.test");
        forName.Should().NotBeSameAs(user);
        user.TargetHost.Should().BeNull();
        forAddress.Should().BeSameAs(user, "nothing to fill in: the user's own options are used");
    }

    [Fact]
    public void TlsHandshakeTimeout_ValidatesAndDefaultsToTenSeconds()
    {
        var server = new TcpServerOptions();
        var connector = new TcpConnectorOptions();

        server.TlsHandshakeTimeout.Should().Be(TimeSpan.FromSeconds(10));
        connector.TlsHandshakeTimeout.Should().Be(TimeSpan.FromSeconds(10));
        server.Invoking(o => o.TlsHandshakeTimeout = TimeSpan.Zero).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*TlsHandshakeTimeout*");
        connector.Invoking(o => o.TlsHandshakeTimeout = TimeSpan.FromSeconds(-1)).Should().Throw<ArgumentOutOfRangeException>();
        server.TlsHandshakeTimeout = Timeout.InfiniteTimeSpan;
        server.TlsHandshakeTimeout.Should().Be(Timeout.InfiniteTimeSpan);
    }

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite);

    private static void Fill(object options)
    {
        foreach (PropertyInfo property in Settable(options.GetType()))
        {
            object? value = property.PropertyType switch
            {
                Type t when t == typeof(bool) => !(bool)property.GetValue(options)!,
                Type t when t == typeof(string) => "host.test",
                Type t when t == typeof(SslProtocols) => SslProtocols.Tls13,
                Type t when t == typeof(X509RevocationMode) => X509RevocationMode.Offline,
#pragma warning disable SYSLIB0040 // EncryptionPolicy is obsolete, and still a property to copy
                Type t when t == typeof(EncryptionPolicy) => EncryptionPolicy.AllowNoEncryption,
#pragma warning restore SYSLIB0040
                Type t when t == typeof(List<SslApplicationProtocol>) => new List<SslApplicationProtocol> { SslApplicationProtocol.Http2 },
                Type t when t == typeof(X509Certificate) => TestCertificates.Localhost,
                Type t when t == typeof(X509CertificateCollection) => new X509CertificateCollection { TestCertificates.Client },
                Type t when t == typeof(SslStreamCertificateContext) => SslStreamCertificateContext.Create(TestCertificates.Localhost, null, offline: true),
                Type t when t == typeof(X509ChainPolicy) => new X509ChainPolicy(),
                Type t when t == typeof(CipherSuitesPolicy) && OperatingSystem.IsLinux() => new CipherSuitesPolicy([TlsCipherSuite.TLS_AES_128_GCM_SHA256]),
                Type t when t == typeof(CipherSuitesPolicy) => null,
                Type t when t == typeof(RemoteCertificateValidationCallback) => new RemoteCertificateValidationCallback((_, certificate, _, _) => certificate is null),
                Type t when t == typeof(LocalCertificateSelectionCallback) => new LocalCertificateSelectionCallback((_, _, _, _, _) => null!),
                Type t when t == typeof(ServerCertificateSelectionCallback) => new ServerCertificateSelectionCallback((_, _) => null!),
                Type t => throw new InvalidOperationException($"The test does not know how to fill {t} ({property.Name}): add it, and make sure TlsOptions.Copy copies it."),
            };
            property.SetValue(options, value);
        }
    }
}
