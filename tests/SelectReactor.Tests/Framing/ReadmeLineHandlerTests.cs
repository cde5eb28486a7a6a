using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests.Framing;

/// <summary>The README's framing example does what the README says.</summary>
public sealed class ReadmeLineHandlerTests
{
    [Fact]
    public void LineHandler_AnswersInOrder_AwaitingTheSlowStore()
    {
        using var harness = new ServerHarness(() => new LineHandler(async key =>
        {
            await Task.Delay(50);
            return "value of " + key;
        }));
        using Socket client = harness.Connect();

        client.Send("lookup a\nupper hi\nbogus\n"u8);

        string expected = "value of a\nHI\nunknown command\n";
        Encoding.ASCII.GetString(SocketIo.ReceiveExactly(client, expected.Length)).Should().Be(expected);
    }
}
