using System.Globalization;
using System.Text;
using LinqStream.Physical.Windows;
using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>Which parts of a physical plan run on several tasks, and the text <c>Explain()</c> shows for it.</summary>
internal sealed record ParallelPlan(IReadOnlySet<PhysicalNode>? Nodes, int Parallelism, string Description)
{
    /// <summary>Gets the split aggregates whose input is a union of partitions read by several source tasks (a subset of <see cref="Nodes"/>).</summary>
    public IReadOnlySet<PhysicalNode>? SourceSplitNodes { get; init; }

    /// <summary>Gets a value indicating whether a replayed array in start order under a split aggregate is read on P source tasks in chunks (false for a job).</summary>
    public bool SplitArrays { get; init; } = true;

    /// <summary>Gets the split aggregates whose partitions are partitioned by their key: they run with a forward exchange (a subset of <see cref="SourceSplitNodes"/>).</summary>
    public IReadOnlyDictionary<PhysicalNode, ForwardPlan>? ForwardNodes { get; init; }

    /// <summary>Gets, per split aggregate, the step over its results that also runs on each task before the merge (its only consumer, e.g. q5's per-window maximum), or null.</summary>
    public IReadOnlyDictionary<PhysicalNode, ITaskLocalStep>? TaskSteps { get; init; }

    /// <summary>
    /// Gets, per <c>WindowJoin</c> run on the tasks behind a broadcast exchange (docs/parallelism.md, "The broadcast exchange"), its
    /// shape: the split keyed aggregate (its left input) and the whole-window aggregate over the same input (its right input, the
    /// small side, run on the source task), or null.
    /// </summary>
    public IReadOnlyDictionary<PhysicalNode, BroadcastShape>? BroadcastJoins { get; init; }

    public static ParallelPlan Sequential { get; } = new(null, 1, "Parallelism: 1 (one task; set QueryOptions.Parallelism to use more)");
}

/// <summary>
/// Cuts the physical plan into stages at each keyed window aggregate whose input belongs to it alone: the input runs on a
/// source task, the aggregate on P tasks behind a hash exchange by key group, the rest behind an order-restoring merge.
/// </summary>
/// <remarks>
/// The sequential plan is left as it is (the checkpoint fingerprint is taken from it, so it does not depend on P); the
/// cut is a set of nodes the run looks up when it wires them. A query with no such aggregate runs on one task, with the reason.
/// </remarks>
internal static class ParallelPlanner
{
    /// <summary>The size of the chunks a replayed array is dealt out in to its source tasks: two batches (a part needs two chunks at least).</summary>
    public static int ArrayChunk(int batchSize) => 2 * batchSize;

    /// <param name="root">The sequential physical plan.</param>
    /// <param name="options">The query's settings (parallelism, key groups).</param>
    /// <param name="broadcast">Whether a keyed aggregate whose input also feeds a whole-window aggregate joined to it on the window may
    /// run with a broadcast exchange (false for a job with a state backend off the heap, or one whose tasks run elsewhere).</param>
    public static ParallelPlan Plan(PhysicalNode root, QueryOptions options, bool broadcast = true)
    {
        if (options.Parallelism == 1)
        {
            return ParallelPlan.Sequential;
        }

        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        var parents = CountParents(root);
        var chosen = new List<PhysicalNode>();
        var broadcasts = new Dictionary<PhysicalNode, BroadcastShape>(ReferenceEqualityComparer.Instance); // by join
        var broadcastAggregates = new Dictionary<PhysicalNode, BroadcastShape>(ReferenceEqualityComparer.Instance); // by keyed aggregate
        string? reason = null;
        foreach (var node in parents.Keys)
        {
            if (node is not IKeyedAggregateNode { KeyDescription: not null })
            {
                continue;
            }

            var below = Descendants(node);
            if (below.Any(n => n is IKeyedAggregateNode { KeyDescription: not null }))
            {
                continue; // split the lowest keyed aggregate: most events flow there
            }

            if (below.Any(n => parents[n].Any(p => p != node && !below.Contains(p))))
            {
                // The broadcast shape: the only other consumer is a whole-window aggregate joined to this one on the window.
                switch (broadcast && options.BroadcastExchange ? FindBroadcast(node, parents, below) : null)
                {
                    case BroadcastShape shape:
                        broadcasts[shape.Join] = shape;
                        broadcastAggregates[node] = shape;
                        chosen.Add(node);
                        continue;
                    case string why:
                        reason ??= Internal.Strings.ParallelSharedInput(options.Parallelism, node.Name) + " (no broadcast exchange: " + why + ")";
                        continue;
                    default:
                        reason ??= Internal.Strings.ParallelSharedInput(options.Parallelism, node.Name);
                        continue;
                }
            }

            chosen.Add(node);
        }

        if (chosen.Count == 0)
        {
            return ParallelPlan.Sequential with
            {
                Description = "Parallelism: 1. " + (reason ?? Internal.Strings.ParallelNoKeyedAggregate(options.Parallelism)),
            };
        }

        // A broadcast's small side needs every event, so its aggregate keeps one source task (mergeable per-window partials on
        // several source tasks are not built).
        var split = new HashSet<PhysicalNode>(chosen.Where(n => !broadcastAggregates.ContainsKey(n) && CanSplitSources(n)), ReferenceEqualityComparer.Instance);
        var forward = new Dictionary<PhysicalNode, ForwardPlan>(ReferenceEqualityComparer.Instance);
        var hashReasons = new Dictionary<PhysicalNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var node in split)
        {
            switch (PlanForward(node, options, parallelism))
            {
                case ForwardPlan plan:
                    forward[node] = plan;
                    break;
                case string why:
                    hashReasons[node] = why;
                    break;
            }
        }

        var steps = new Dictionary<PhysicalNode, ITaskLocalStep>(ReferenceEqualityComparer.Instance);
        foreach (var node in chosen)
        {
            // The aggregate's one consumer has a local form (q5's per-window maximum): it runs on every task, the global step after the merge.
            if (options.TaskLocalSteps && parents[node] is [ITaskLocalStep step] && step.Input == node)
            {
                steps[node] = step;
            }
        }

        return new ParallelPlan(new HashSet<PhysicalNode>(chosen, ReferenceEqualityComparer.Instance), parallelism, Describe(chosen, split, forward, hashReasons, steps, broadcastAggregates, parallelism, options))
        {
            SourceSplitNodes = split.Count > 0 ? split : null,
            ForwardNodes = forward.Count > 0 ? forward : null,
            TaskSteps = steps.Count > 0 ? steps : null,
            BroadcastJoins = broadcasts.Count > 0 ? broadcasts : null,
        };
    }

    /// <summary>
    /// Whether <paramref name="aggregate"/> (keyed, the lowest of its branch, its input shared) is the left input of a
    /// <c>WindowJoin</c> whose right input is a whole-window aggregate over the same shared stream (a <c>Multicast</c> below the
    /// keyed aggregate): then the small side runs on the source task and its rows are broadcast to every task, which joins them
    /// (docs/parallelism.md, "The broadcast exchange"). Returns the <see cref="BroadcastShape"/>, why not (a string) when the
    /// shape is nearly there, or null.
    /// </summary>
    private static object? FindBroadcast(PhysicalNode aggregate, Dictionary<PhysicalNode, List<PhysicalNode>> parents, HashSet<PhysicalNode> below)
    {
        if (parents[aggregate] is not [var join] || join is not IBroadcastJoinNode || join.Inputs is not [var left, var small] || left != aggregate)
        {
            return null;
        }

        if (small is not IWholeWindowAggregateNode whole || small.Inputs is not [var shared] || !below.Contains(shared))
        {
            return null;
        }

        if (parents[small] is not [var only] || only != join)
        {
            return $"'{small.Name}' has another consumer";
        }

        if (!whole.IsWholeWindow)
        {
            return $"'{small.Name}' is not a whole-window aggregate over a tumbling or hopping window";
        }

        if (!shared.GetType().IsGenericType || shared.GetType().GetGenericTypeDefinition() != typeof(Physical.Multicast.MulticastStream<>))
        {
            return $"the shared input '{shared.Name}' is not a multicast";
        }

        // Nothing below the aggregate may be used by anything but the aggregate's own sub-plan and the small side.
        if (below.Any(n => parents[n].Any(p => p != aggregate && p != small && !below.Contains(p))))
        {
            return "the input is also used by a third part of the query";
        }

        return new BroadcastShape(aggregate, small, join);
    }

    /// <summary>
    /// Whether the aggregate's input is a union (of partitions, or of any streams), directly or through filters and
    /// projections, whose inputs share nothing, so that each may be read and prepared on its own source task (the
    /// filters and projections then run in every partition); not when a partition belongs to an idle-timeout group
    /// (idleness compares the group's partitions on one thread).
    /// </summary>
    internal static bool CanSplitSources(PhysicalNode aggregate) =>
        aggregate.Inputs is [var input] && WhyNotSplitUnion(input, minimumInputs: 2) is null;

    /// <summary>
    /// Why <paramref name="top"/> (a union, or filters and projections over one) cannot be read as separate inputs on separate
    /// tasks, or null when it can: its inputs share nothing and none is in an idle-timeout group.
    /// </summary>
    internal static string? WhyNotSplitUnion(PhysicalNode top, int minimumInputs)
    {
        var union = top;
        while (IsPipeline(union))
        {
            union = union.Inputs[0];
        }

        if (!IsUnion(union))
        {
            return $"'{union.Name}' is above the union of the inputs (only filters and projections may be)";
        }

        if (union.Inputs.Count < minimumInputs)
        {
            return $"the union has {union.Inputs.Count} input(s)";
        }

        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance);
        foreach (var input in union.Inputs)
        {
            var subtree = Descendants(input);
            subtree.Add(input);
            foreach (var node in subtree)
            {
                if (!seen.Add(node))
                {
                    return $"the union's inputs share '{node.Name}'";
                }

                if (node is Physical.Ingress.IIngressNode { HasIdleGroup: true })
                {
                    return "an input is in an idle-timeout group (idleness compares the group's inputs on one thread)";
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a split aggregate runs with a forward exchange: its union's inputs are the partitions of one source partitioned by
    /// key (<c>QStream.FromKeyPartitioned</c>), in their order, by the aggregate's own key, over the query's key groups, with only
    /// filters between them and the aggregate, and at least as many partitions as tasks. Returns the <see cref="ForwardPlan"/>, or
    /// why the aggregate hashes although its input declares a partitioning, or null when nothing is declared.
    /// </summary>
    internal static object? PlanForward(PhysicalNode aggregate, QueryOptions options, int parallelism)
    {
        var union = aggregate.Inputs[0];
        bool onlyFilters = true;
        while (IsPipeline(union))
        {
            onlyFilters &= ((IPipelineNode)union).Steps.All(step => step.IsFilter);
            union = union.Inputs[0];
        }

        var declared = new List<Runtime.Ingress.KeyPartitioning>();
        var names = new List<string>();
        bool anyUndeclared = false, allReplayed = true;
        foreach (var top in union.Inputs)
        {
            var input = top;
            while (IsPipeline(input))
            {
                onlyFilters &= ((IPipelineNode)input).Steps.All(step => step.IsFilter); // a filter the optimizer moved into each partition
                input = input.Inputs[0];
            }

            if (input is Physical.Ingress.IIngressNode { KeyPartitioning: { } partitioning } ingress)
            {
                declared.Add(partitioning);
                names.Add(ingress.SourceName);
                allReplayed &= ingress.IsReplayed;
            }
            else
            {
                anyUndeclared = true;
            }
        }

        if (declared.Count == 0)
        {
            return null;
        }

        var first = declared[0];
        string key = first.Key.ToString();
        if (anyUndeclared || declared.Count != first.Partitions || declared.Where((d, i) => d.Index != i || !d.SameDeclaration(first)).Any())
        {
            return $"the union's inputs are not exactly the {first.Partitions} partitions of one source partitioned by '{key}', in order";
        }

        if (first.KeyGroups != options.KeyGroups)
        {
            return $"the source was partitioned over {first.KeyGroups} key groups, the query has {options.KeyGroups} (QueryOptions.KeyGroups)";
        }

        var keyed = (IKeyedAggregateNode)aggregate;
        if (keyed.KeySelector is not { } aggregateKey || !SameKey(first.Key, aggregateKey))
        {
            return $"the aggregate's key '{keyed.KeyDescription}' is not the partition key '{key}'";
        }

        if (!onlyFilters)
        {
            return "a projection between the partitions and the aggregate may change the key (only filters may be there)";
        }

        if (first.Partitions < parallelism)
        {
            return $"{first.Partitions} partitions for {parallelism} tasks: the hash exchange spreads the keys over all {parallelism}";
        }

        return new ForwardPlan(first.Partitions, first.KeyGroups, declared, names, key, Chained: allReplayed && options.ChainForwardTasks);
    }

    /// <summary>Whether two one-parameter key lambdas are the same key: the same parameter and key types and the same body once the parameters are named alike.</summary>
    private static bool SameKey(System.Linq.Expressions.LambdaExpression a, System.Linq.Expressions.LambdaExpression b)
    {
        if (a.Parameters.Count != 1 || b.Parameters.Count != 1 || a.Parameters[0].Type != b.Parameters[0].Type || a.ReturnType != b.ReturnType)
        {
            return false;
        }

        var renamed = new ParameterSwap(b.Parameters[0], a.Parameters[0]).Visit(b.Body);
        return renamed.ToString() == a.Body.ToString();
    }

    /// <summary>Replaces one parameter with another in an expression.</summary>
    private sealed class ParameterSwap(System.Linq.Expressions.ParameterExpression from, System.Linq.Expressions.ParameterExpression to) : System.Linq.Expressions.ExpressionVisitor
    {
        protected override System.Linq.Expressions.Expression VisitParameter(System.Linq.Expressions.ParameterExpression node) => node == from ? to : node;
    }

    /// <summary>
    /// What an exchange that copies events (between silos) carries to <paramref name="aggregate"/>'s tasks: the members it reads
    /// (<see cref="IKeyedAggregateNode.InputReads"/>), but whole events when the input is a union read by several source tasks
    /// under filters or projections: the tasks' unions hold events that a checkpoint keeps, and a restore at parallelism 1 runs
    /// them through those operators again, which may read other members.
    /// </summary>
    internal static ExchangeProjection CrossingOf(PhysicalNode aggregate, bool sourcesSplit)
    {
        var reads = ((IKeyedAggregateNode)aggregate).InputReads;
        if (sourcesSplit && reads.Members is not null && IsPipeline(aggregate.Inputs[0]))
        {
            return ExchangeProjection.Whole(reads.Element, $"the tasks' unions hold events a checkpoint keeps, which a restore at parallelism 1 runs through '{aggregate.Inputs[0].Name}' again");
        }

        return reads;
    }

    /// <summary>Gets the union under a split aggregate (through its filters and projections).</summary>
    internal static PhysicalNode UnionUnder(PhysicalNode aggregate)
    {
        var node = aggregate.Inputs[0];
        while (IsPipeline(node))
        {
            node = node.Inputs[0];
        }

        return node;
    }

    /// <summary>Whether <paramref name="node"/> is a source under nothing but filters and projections.</summary>
    private static bool IsPipelineChain(PhysicalNode node)
    {
        while (IsPipeline(node))
        {
            node = node.Inputs[0];
        }

        return node.Inputs.Count == 0;
    }

    internal static bool IsUnion(PhysicalNode node) =>
        node.GetType().IsGenericType && node.GetType().GetGenericTypeDefinition() == typeof(Physical.Union.UnionStream<>);

    private static bool IsPipeline(PhysicalNode node) =>
        node.GetType().IsGenericType && node.GetType().GetGenericTypeDefinition() == typeof(Physical.Pipeline.PipelineStream<,>);

    private static string Describe(List<PhysicalNode> chosen, HashSet<PhysicalNode> split, Dictionary<PhysicalNode, ForwardPlan> forward, Dictionary<PhysicalNode, string> hashReasons, Dictionary<PhysicalNode, ITaskLocalStep> steps, Dictionary<PhysicalNode, BroadcastShape> broadcasts, int parallelism, QueryOptions options)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Parallelism: {parallelism} tasks per keyed stage, {options.KeyGroups} key groups");
        if (parallelism < options.Parallelism)
        {
            text.Append(CultureInfo.InvariantCulture, $" (Parallelism {options.Parallelism} is more than the key groups)");
        }

        text.AppendLine();
        foreach (var node in chosen)
        {
            var keyed = (IKeyedAggregateNode)node;
            string merge = "  Exchange: order-restoring merge (by start, then key hash), then the rest of the plan on the query's thread";
            string? onePhaseReason = keyed.TwoPhaseReason(options);
            var ranges = Enumerable.Range(0, parallelism).Select(t => KeyGroups.RangeOf(t, options.KeyGroups, parallelism)).Select(r => $"[{r.First},{r.End})");
            if (forward.TryGetValue(node, out var plan))
            {
                int inputs = plan.Partitions;
                var groups = Enumerable.Range(0, parallelism).Select(s => KeyGroups.RangeOf(s, inputs, parallelism)).Select(r => r.End - r.First == 1 ? $"[{r.First}]" : $"[{r.First}..{r.End - 1}]");
                var owned = Enumerable.Range(0, parallelism).Select(t => KeyGroups.ForwardRangeOf(t, parallelism, inputs, options.KeyGroups)).Select(r => $"[{r.First},{r.End})");
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} source tasks, union inputs {string.Join(" ", groups)}: each reads its partitions with their own watermarks and checks that each event's key group is its partition's").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Exchange: forward: the source is partitioned by '{plan.KeyDescription}' into {inputs} partitions of {plan.KeyGroups} key groups, the aggregate's key, so each source task hands its batches whole to its own task (no hash exchange: no event is hashed to another task; watermarks and barriers still go to every task; a misrouted event stops the query)").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} tasks: the events of its own source task (the watermark: the minimum over all {parallelism}), {node.Name}, key groups {string.Join(" ", owned)} (its partitions' key groups)").AppendLine();
                text.Append(plan.Chained
                    ? "  Chained: source task t and task t run on one thread (the source task calls the task's operators with each batch; no channel, no hand-off between them)"
                    : "  Not chained: each source task and each task on its own thread (a partition read on a pool thread steps asynchronously)").AppendLine();
                text.Append("  One phase: each key's events are on one task already (nothing to pre-aggregate)").AppendLine();
                if (steps.TryGetValue(node, out var forwardStep))
                {
                    text.Append("  Local step on each task: ").Append(forwardStep.LocalDescription).AppendLine();
                }

                AppendCrossing(text, node, sourcesSplit: true);

                text.Append("  Exchange: order-restoring merge (by start, then key hash), then the rest of the plan on the query's thread").AppendLine();
                continue;
            }

            if (split.Contains(node))
            {
                int inputs = UnionUnder(node).Inputs.Count, sources = Math.Min(inputs, parallelism);
                var groups = Enumerable.Range(0, sources).Select(s => KeyGroups.RangeOf(s, inputs, sources)).Select(r => r.End - r.First == 1 ? $"[{r.First}]" : $"[{r.First}..{r.End - 1}]");
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {sources} source tasks, union inputs {string.Join(" ", groups)}: each reads its partitions with their own watermarks and runs the operators above them").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Exchange: hash by key group of '{keyed.KeyDescription}' (stable XxHash3 of the key), from every source task to every task").AppendLine();
                if (hashReasons.TryGetValue(node, out var whyHash))
                {
                    text.Append("    (not forward: ").Append(whyHash).Append(')').AppendLine();
                }

                string taskInput = onePhaseReason is null
                    ? $"the partial groups of the {sources} source tasks as they come"
                    : keyed.OrderedInputReason(options) is { } ordered
                        ? $"union of the {sources} source tasks (start, then source task; {ordered})"
                        : $"the events of the {sources} source tasks as they come (the answer does not depend on their order)";
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} tasks: {taskInput}, {node.Name}, key groups {string.Join(" ", ranges)}").AppendLine();
            }
            else if (broadcasts.TryGetValue(node, out var shape))
            {
                var leaves = Descendants(node).Where(n => n.Inputs.Count == 0).ToList();
                text.Append(CultureInfo.InvariantCulture, $"  Stage: 1 source task: {string.Join(" + ", leaves.Select(n => n.Name).Distinct())} and the operators above them, and the small side '{shape.Small.Name}' (parallelism 1's whole-window operator: it needs every event, so there is one source task)").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Exchange: hash by key group of '{keyed.KeyDescription}' (stable XxHash3 of the key)").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Exchange: broadcast of '{shape.Small.Name}' (one row per window) from the source task to every task, before the watermark that closes the window").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} tasks: {node.Name}, key groups {string.Join(" ", ranges)}, then {shape.Join.Name} with the broadcast rows").AppendLine();
                merge = "  Exchange: order-restoring merge (by start, ties from the highest task first: the join gives a window's per-key results newest first), then the rest of the plan on the query's thread";
            }
            else
            {
                var leaves = Descendants(node).Where(n => n.Inputs.Count == 0).ToList();
                text.Append(CultureInfo.InvariantCulture, $"  Stage: 1 task: {string.Join(" + ", leaves.Select(n => n.Name).Distinct())} and the operators above them").AppendLine();
                if (leaves is [Physical.Ingress.IIngressNode { IsReplayedArray: true }] && IsPipelineChain(node.Inputs[0]))
                {
                    text.Append(CultureInfo.InvariantCulture, $"    (a query, not a job, over an array in start order of at least {parallelism} × {2 * ArrayChunk(options.BatchSize)} events reads it instead on {parallelism} source tasks, in chunks of about {ArrayChunk(options.BatchSize)} events dealt out in turn, checked when it starts)").AppendLine();
                }

                text.Append(CultureInfo.InvariantCulture, $"  Exchange: hash by key group of '{keyed.KeyDescription}' (stable XxHash3 of the key)").AppendLine();
                text.Append(CultureInfo.InvariantCulture, $"  Stage: {parallelism} tasks: {node.Name}, key groups {string.Join(" ", ranges)}").AppendLine();
            }

            text.Append(onePhaseReason is { } whyNot
                ? "  One phase: the events cross the exchange (" + whyNot + ")"
                : "  Two-phase: each source task pre-aggregates per (window, key) and ships one partial group per window and key; the tasks merge them").AppendLine();
            if (steps.TryGetValue(node, out var step))
            {
                text.Append("  Local step on each task: ").Append(step.LocalDescription).AppendLine();
            }

            if (!broadcasts.ContainsKey(node))
            {
                AppendCrossing(text, node, split.Contains(node)); // a broadcast exchange never runs on a cluster
            }

            text.Append(merge).AppendLine();
        }

        return text.ToString();
    }

    /// <summary>What a job spread over a cluster's silos sends across them to the aggregate's tasks (in process, the events themselves are passed).</summary>
    private static void AppendCrossing(StringBuilder text, PhysicalNode node, bool sourcesSplit)
    {
        text.Append("  Between silos (a job spread over a cluster, events cross in one phase): ").Append(CrossingOf(node, sourcesSplit).Describe()).AppendLine();
    }

    private static Dictionary<PhysicalNode, List<PhysicalNode>> CountParents(PhysicalNode root)
    {
        var parents = new Dictionary<PhysicalNode, List<PhysicalNode>>(ReferenceEqualityComparer.Instance) { [root] = [] };
        var stack = new Stack<PhysicalNode>([root]);
        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance) { root };
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var input in node.Inputs)
            {
                if (!parents.TryGetValue(input, out var list))
                {
                    parents[input] = list = [];
                }

                list.Add(node);
                if (seen.Add(input))
                {
                    stack.Push(input);
                }
            }
        }

        return parents;
    }

    private static HashSet<PhysicalNode> Descendants(PhysicalNode node)
    {
        var seen = new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<PhysicalNode>(node.Inputs);
        while (stack.Count > 0)
        {
            var next = stack.Pop();
            if (seen.Add(next))
            {
                foreach (var input in next.Inputs)
                {
                    stack.Push(input);
                }
            }
        }

        return seen;
    }
}

/// <summary>
/// A forward plan for a split aggregate: its union's inputs are the <see cref="Partitions"/> partitions of a source partitioned by
/// the aggregate's key over <see cref="KeyGroups"/> key groups (<see cref="Declared"/>, <see cref="Names"/>: per partition).
/// </summary>
/// With <see cref="Chained"/> (every partition is replayed on the thread that steps it), source task t and task t run on one thread.
internal sealed record ForwardPlan(int Partitions, int KeyGroups, IReadOnlyList<Runtime.Ingress.KeyPartitioning> Declared, IReadOnlyList<string> Names, string KeyDescription, bool Chained);

/// <summary>A broadcast exchange's shape: the split keyed aggregate, the whole-window aggregate over the same input (the small side), the join of the two.</summary>
internal sealed record BroadcastShape(PhysicalNode Aggregate, PhysicalNode Small, PhysicalNode Join);

/// <summary>A window join that may run on the tasks of a split keyed aggregate (its left input), with its right input broadcast.</summary>
internal interface IBroadcastJoinNode
{
}

/// <summary>A window aggregate that may be the small side of a broadcast exchange.</summary>
internal interface IWholeWindowAggregateNode
{
    /// <summary>Gets a value indicating whether it aggregates each tumbling or hopping window as a whole (no key).</summary>
    bool IsWholeWindow { get; }
}

/// <summary>Filters and projections fused into one node (<see cref="Physical.Pipeline.PipelineStream{TIn, TOut}"/>).</summary>
internal interface IPipelineNode
{
    IReadOnlyList<Physical.Pipeline.PipelineKernelStep> Steps { get; }
}

/// <summary>A window aggregate that may run split by key (<see cref="WindowAggregateStream{T, TKey, TResult}"/>).</summary>
internal interface IKeyedAggregateNode
{
    /// <summary>Gets the grouping key, or null when the aggregate has no key.</summary>
    System.Linq.Expressions.LambdaExpression? KeySelector { get; }

    /// <summary>Gets the key selector's text, or null when the aggregate has no key (then it cannot be split).</summary>
    string? KeyDescription { get; }

    /// <summary>Gets why the aggregate, split, keeps the one-phase plan (events cross the exchange), or null when it runs in two phases.</summary>
    string? TwoPhaseReason(QueryOptions options);

    /// <summary>Gets what the aggregate reads of each input event (its key selector and aggregates): what an exchange that copies events must carry.</summary>
    ExchangeProjection InputReads { get; }

    /// <summary>
    /// Gets why the aggregate, split in one phase over several source tasks, takes each task's events in parallelism 1's union
    /// order, or null when it takes them as they come (its answer does not depend on their order).
    /// </summary>
    string? OrderedInputReason(QueryOptions options);
}

/// <summary>
/// A physical node over a split aggregate's results whose work can start on each task, before the merge (docs/parallelism.md,
/// "q5: the window's maximum on every task"): the node itself then runs after the merge as the global step, unchanged.
/// </summary>
internal interface ITaskLocalStep
{
    /// <summary>Gets the node's input (the split aggregate).</summary>
    PhysicalNode Input { get; }

    /// <summary>Gets what the local step does, for <c>Explain()</c>.</summary>
    string LocalDescription { get; }
}

/// <summary>A <see cref="ITaskLocalStep"/> over events of type <typeparamref name="T"/>: builds the local step on one task.</summary>
/// <typeparam name="T">The split aggregate's results.</typeparam>
internal interface ITaskLocalStep<T> : ITaskLocalStep
{
    /// <summary>Builds the local step in a task's context, in front of <paramref name="downstream"/> (the task's output).</summary>
    IStreamObserver<T> CreateTaskStep(IStreamObserver<T> downstream, QueryContext context);
}
