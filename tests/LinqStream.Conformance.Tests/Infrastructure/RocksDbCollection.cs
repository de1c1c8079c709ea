namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>
/// The test classes that open RocksDB stores run one at a time, not beside each other: with several classes opening and
/// closing native stores at once the test host crashed (segmentation fault) about one run in four (2026-12-04, issue #18's
/// open bug; see docs/state.md, limits). Each class alone never crashed.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RocksDbCollection
{
    public const string Name = "RocksDB stores";
}
