namespace LinqStream.Conformance.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void StreamEvent_OneTickLifetime_IsPoint() => Assert.True(new StreamEvent<int>(5, 6, 1).IsPoint);
}
