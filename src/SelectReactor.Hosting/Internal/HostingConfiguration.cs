using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using SelectReactor.Net;

namespace SelectReactor.Hosting;

/// <summary>
/// Reads the host's and the servers' settings from configuration, by hand rather than through the reflection binder:
/// no trimming or AOT warnings, and every error names the key, the value and what is allowed. An unknown key is an
/// error too, so that a typo does not silently leave a default in place.
/// </summary>
internal static class HostingConfiguration
{
    private static readonly string[] HostKeys = ["Name", "MaxSelectTimeout", "MaxColdSocketDelay", "ReactorCount", "Servers"];

    private static readonly string[] ServerKeys =
        ["EndPoint", "Backlog", "MaxConnections", "AcceptBatch", "NoDelay", "InitialAcceptBackoff", "MaxAcceptBackoff", "Connection", "Tls"];

    private static readonly string[] TlsKeys = ["Certificate", "HandshakeTimeout", "Protocols", "ApplicationProtocols", "ClientCertificateRequired"];

    private static readonly string[] CertificateKeys = ["Path", "KeyPath", "Password"];

    private static readonly string[] ConnectionKeys =
        ["ReceiveBufferSize", "MaxReadsPerReadiness", "SendHighWatermark", "SendLowWatermark", "MaxPendingSendBytes", "IdleTimeout", "CloseTimeout", "CloseFlushTimeout"];

    /// <summary>Sets the host options found in <paramref name="section"/>.</summary>
    /// <exception cref="InvalidOperationException">A value cannot be read, or a key is unknown.</exception>
    public static void Bind(IConfiguration section, SelectReactorHostOptions options)
    {
        CheckKeys(section, HostKeys);
        Read(section, "Name", value => options.Name = value);
        Read(section, "MaxSelectTimeout", value => options.MaxSelectTimeout = ParseTimeSpan(value));
        Read(section, "MaxColdSocketDelay", value => options.MaxColdSocketDelay = ParseTimeSpan(value));
        Read(section, "ReactorCount", value => options.ReactorCount = ParseInt(value));
    }

    /// <summary>Sets the server options found in <paramref name="section"/>, and its <c>Connection</c> subsection.</summary>
    /// <exception cref="InvalidOperationException">A value cannot be read or is out of range, or a key is unknown.</exception>
    public static void Bind(IConfiguration section, TcpServerOptions options)
    {
        CheckKeys(section, ServerKeys);
        Read(section, "Backlog", value => options.Backlog = ParseInt(value));
        Read(section, "MaxConnections", value => options.MaxConnections = ParseInt(value));
        Read(section, "AcceptBatch", value => options.AcceptBatch = ParseInt(value));
        Read(section, "NoDelay", value => options.NoDelay = ParseBool(value));
        Read(section, "InitialAcceptBackoff", value => options.InitialAcceptBackoff = ParseTimeSpan(value));
        Read(section, "MaxAcceptBackoff", value => options.MaxAcceptBackoff = ParseTimeSpan(value));
        IConfigurationSection connection = section.GetSection("Connection");
        CheckKeys(connection, ConnectionKeys);
        TcpConnectionOptions c = options.Connection;
        Read(connection, "ReceiveBufferSize", value => c.ReceiveBufferSize = ParseInt(value));
        Read(connection, "MaxReadsPerReadiness", value => c.MaxReadsPerReadiness = ParseInt(value));
        Read(connection, "SendHighWatermark", value => c.SendHighWatermark = ParseLong(value));
        Read(connection, "SendLowWatermark", value => c.SendLowWatermark = ParseLong(value));
        Read(connection, "MaxPendingSendBytes", value => c.MaxPendingSendBytes = ParseLong(value));
        Read(connection, "IdleTimeout", value => c.IdleTimeout = ParseTimeSpan(value));
        Read(connection, "CloseTimeout", value => c.CloseTimeout = ParseTimeSpan(value));
        Read(connection, "CloseFlushTimeout", value => c.CloseFlushTimeout = ParseTimeSpan(value));
        IConfigurationSection tls = section.GetSection("Tls");
        if (tls.Exists())
        {
            BindTls(tls, options);
        }
    }

    /// <summary>
    /// The <c>Tls</c> subsection: <c>Certificate</c> { <c>Path</c> (PEM or PKCS#12), <c>KeyPath</c> (PEM key, when not in
    /// the certificate's file), <c>Password</c> (PKCS#12) }, <c>HandshakeTimeout</c>, <c>Protocols</c> ("Tls12, Tls13"),
    /// <c>ApplicationProtocols</c> (ALPN, "h2, http/1.1") and <c>ClientCertificateRequired</c>.
    /// </summary>
    private static void BindTls(IConfigurationSection section, TcpServerOptions options)
    {
        CheckKeys(section, TlsKeys);
        IConfigurationSection certificate = section.GetSection("Certificate");
        CheckKeys(certificate, CertificateKeys);
        string? path = certificate["Path"];
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidOperationException($"Configuration {certificate.Path}:Path is missing: a TLS server needs its certificate (PEM, with KeyPath or the key in the same file, or PKCS#12 with Password).");
        }

        var tls = new SslServerAuthenticationOptions();
        Read(certificate, "Path", value => tls.ServerCertificate = LoadCertificate(value, certificate["KeyPath"], certificate["Password"]));
        Read(section, "HandshakeTimeout", value => options.TlsHandshakeTimeout = ParseTimeSpan(value));
        Read(section, "Protocols", value => tls.EnabledSslProtocols = ParseProtocols(value));
        Read(section, "ApplicationProtocols", value => tls.ApplicationProtocols = ParseApplicationProtocols(value));
        Read(section, "ClientCertificateRequired", value => tls.ClientCertificateRequired = ParseBool(value));
        options.Tls = tls;
    }

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password)
    {
        try
        {
            X509Certificate2 certificate = Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(path, password)
                : X509Certificate2.CreateFromPemFile(path, keyPath);
            return certificate.HasPrivateKey ? certificate : throw new ArgumentException($"the certificate in {path} has no private key (give KeyPath).");
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot load the certificate: {e.Message}", e);
        }
    }

    private static SslProtocols ParseProtocols(string value)
    {
        SslProtocols protocols = SslProtocols.None;
        foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            protocols |= name switch
            {
                "Tls12" => SslProtocols.Tls12,
                "Tls13" => SslProtocols.Tls13,
                _ => throw new FormatException($"'{name}' is not a protocol: write Tls12, Tls13 or both, comma-separated."),
            };
        }

        return protocols;
    }

    private static List<SslApplicationProtocol> ParseApplicationProtocols(string value)
    {
        var protocols = new List<SslApplicationProtocol>();
        foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            protocols.Add(new SslApplicationProtocol(name));
        }

        return protocols.Count > 0 ? protocols : throw new FormatException("no protocol named: write them comma-separated, such as h2, http/1.1.");
    }

    /// <summary>The required <c>EndPoint</c>: "127.0.0.1:7000", "[::]:7000", "0.0.0.0:7000" or "unix:/run/app.sock".</summary>
    /// <exception cref="InvalidOperationException">It is missing or not one of those forms.</exception>
    public static EndPoint ReadEndPoint(IConfiguration section)
    {
        string path = section is IConfigurationSection s ? s.Path + ":EndPoint" : "EndPoint";
        string? value = section["EndPoint"];
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException($"Configuration {path} is missing: give an IP end point such as 127.0.0.1:7000 or [::]:7000, or unix:/path/to/socket.");
        }

        if (value.StartsWith("unix:", StringComparison.Ordinal) && value.Length > "unix:".Length)
        {
            return new UnixDomainSocketEndPoint(value["unix:".Length..]);
        }

        if (IPEndPoint.TryParse(value, out IPEndPoint? ip) && value.Contains(':', StringComparison.Ordinal))
        {
            return ip;
        }

        throw new InvalidOperationException($"Configuration {path} = '{value}' is not an end point: give an IP address and a port such as 127.0.0.1:7000 or [::]:7000 (host names are not resolved), or unix:/path/to/socket.");
    }

    private static void CheckKeys(IConfiguration section, string[] known)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (Array.IndexOf(known, child.Key) < 0)
            {
                throw new InvalidOperationException($"Configuration {child.Path} is not a setting; the settings here are: {string.Join(", ", known)}.");
            }
        }
    }

    private static void Read(IConfiguration section, string key, Action<string> apply)
    {
        string? value = section[key];
        if (value is null)
        {
            return;
        }

        try
        {
            apply(value);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            string path = section is IConfigurationSection s ? $"{s.Path}:{key}" : key;
            throw new InvalidOperationException($"Configuration {path} = '{value}': {e.Message}", e);
        }
    }

    private static int ParseInt(string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result) ? result : throw new FormatException("not a whole number.");

    private static long ParseLong(string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long result) ? result : throw new FormatException("not a whole number.");

    private static bool ParseBool(string value) =>
        bool.TryParse(value, out bool result) ? result : throw new FormatException("not true or false.");

    /// <summary>A time span as .NET writes it ("00:00:05", "1.00:00:00") or "Infinite"; a bare number ("5", which .NET reads as days) is refused.</summary>
    private static TimeSpan ParseTimeSpan(string value) =>
        value.Equals("Infinite", StringComparison.OrdinalIgnoreCase) ? System.Threading.Timeout.InfiniteTimeSpan
        : value.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out TimeSpan result) ? result
        : throw new FormatException("not a time span: write hours:minutes:seconds such as 00:00:05, or Infinite.");
}
