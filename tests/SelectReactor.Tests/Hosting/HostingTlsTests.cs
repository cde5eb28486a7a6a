using System.Net;
using System.Text;
using System.Threading.Tasks;
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
