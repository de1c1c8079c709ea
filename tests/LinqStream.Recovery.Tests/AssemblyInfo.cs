// The tests start processes that are timed (kill moments, drain rates); running them side by side on a small machine would
// make one test's timing depend on another's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
