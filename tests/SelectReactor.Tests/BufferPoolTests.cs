using SelectReactor.Tests.Infrastructure;

namespace SelectReactor.Tests;

[Collection(SerialCollection.Name)] // alone: other tests rent and return buffers meanwhile
public sealed class BufferPoolTests
{
    [Fact]
    public void Counting_IsOnInTheTestProcess_AndFollowsRentAndReturn()
    {
        BufferPool.IsCounting.Should().BeTrue("the test project sets the SelectReactor.CountPooledBuffers switch");
        long before = BufferPool.Outstanding;

        byte[] first = BufferPool.Rent(1000);
        byte[] second = BufferPool.Rent(70_000);
        long during = BufferPool.Outstanding;
        BufferPool.Return(first);
        BufferPool.Return(second);

        during.Should().Be(before + 2);
        BufferPool.Outstanding.Should().Be(before);
    }
}
