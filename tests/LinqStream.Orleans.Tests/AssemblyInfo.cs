// The cluster tests share one 3-silo test cluster (about 10 s to start) and one Redis; they run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
