using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Window;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.SelectMany;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Runtime.Ingress;

using LinqStream.Plan;

namespace LinqStream.Query;

/// <summary>What a query reads of one source's events: members by C# name, or every member (<see cref="Names"/> null) and why.</summary>
/// <param name="Names">The members read, in ordinal order; null when the query may read every member.</param>
/// <param name="WhyAll">Why every member is read (where a whole record goes), when <paramref name="Names"/> is null.</param>
internal sealed record SourceMembers(IReadOnlyList<string>? Names, string? WhyAll);

/// <summary>
/// Which members of each source's event type a plan reads: the fields and auto-implemented properties that some lambda of an operator
/// above the source reads from a value of that type. When a whole value goes where the engine cannot see what is read of it, every
/// member is read: the query's results hold the type (a sink or an observer gets whole records), a lambda passes it to a method, a
/// constructor or a delegate, compares it, converts it or keys by it, or reads a property with a getter of its own.
/// </summary>
/// <remarks>
/// <para>The analysis follows types, not values: every lambda of an operator above a source of <c>T</c> counts for that source, as if
/// any <c>T</c> it sees could be one of the source's. A value of a type holding <c>T</c> (an anonymous type, a tuple, a window group,
/// a sequence) is followed through member reads and the LINQ to objects methods that neither compare nor hash their elements
/// (the safe element methods below); anything else is a whole-record use.</para>
/// <para>A JSON source whose serializer the engine owns decodes only these members (<see cref="EventSerializer{T}.ForQuery"/>); the
/// others keep what the decoder gives a record without them, which no operator reads.</para>
/// </remarks>
internal static class MembersRead
{
    /// <summary>The <see cref="Enumerable"/> methods that read an element only through their lambdas, and hand the elements on unchanged.</summary>
    private static readonly HashSet<string> s_safeElementMethods =
    [
        nameof(Enumerable.Select), nameof(Enumerable.SelectMany), nameof(Enumerable.Where), nameof(Enumerable.Count), nameof(Enumerable.LongCount),
        nameof(Enumerable.Sum), nameof(Enumerable.Average), nameof(Enumerable.Min), nameof(Enumerable.Max), nameof(Enumerable.MinBy), nameof(Enumerable.MaxBy),
        nameof(Enumerable.Any), nameof(Enumerable.All), nameof(Enumerable.First), nameof(Enumerable.FirstOrDefault), nameof(Enumerable.Last),
        nameof(Enumerable.LastOrDefault), nameof(Enumerable.Single), nameof(Enumerable.SingleOrDefault), nameof(Enumerable.ElementAt),
        nameof(Enumerable.ElementAtOrDefault), nameof(Enumerable.OrderBy), nameof(Enumerable.OrderByDescending), nameof(Enumerable.ThenBy),
        nameof(Enumerable.ThenByDescending), nameof(Enumerable.Take), nameof(Enumerable.Skip), nameof(Enumerable.TakeLast), nameof(Enumerable.SkipLast),
        nameof(Enumerable.TakeWhile), nameof(Enumerable.SkipWhile), nameof(Enumerable.ToList), nameof(Enumerable.ToArray), nameof(Enumerable.AsEnumerable),
        nameof(Enumerable.Reverse), nameof(Enumerable.Aggregate),
    ];

    /// <summary>Of these, the ones that compare their elements themselves when no lambda gives a value (<c>Max()</c> of records).</summary>
    private static readonly HashSet<string> s_comparingWithoutSelector =
        [nameof(Enumerable.Sum), nameof(Enumerable.Average), nameof(Enumerable.Min), nameof(Enumerable.Max)];

    /// <summary>Gets what <paramref name="root"/>'s plan reads of each of its sources' events.</summary>
    public static Dictionary<SourceNode, SourceMembers> Of(PlanNode root)
    {
        var reads = new Dictionary<SourceNode, Read>(ReferenceEqualityComparer.Instance);
        var below = new Dictionary<PlanNode, List<SourceNode>>(ReferenceEqualityComparer.Instance);
        var sources = Visit(root, below, reads);
        foreach (var source in sources)
        {
            if (Holds(root.Type, source.Type))
            {
                reads[source].Whole($"the query's results ({Display(root.Type)}) hold whole {Display(source.Type)} records");
            }
        }

        var members = new Dictionary<SourceNode, SourceMembers>(ReferenceEqualityComparer.Instance);
        foreach (var (source, read) in reads)
        {
            members[source] = read.WhyAll is { } why ? new SourceMembers(null, why) : new SourceMembers([.. read.Names.Order(StringComparer.Ordinal)], null);
        }

        return members;
    }

    /// <summary>
    /// Whether some source of <paramref name="root"/>'s plan is an <see cref="EventSource{T}"/>: the only sources that use what
    /// <see cref="Of"/> finds (<see cref="SourceContext.MembersRead"/>) and the only ones <c>Explain()</c> prints it for, so the
    /// compiler skips the analysis for every other plan (issue #19: it ran on every compile, plan-cache hits included).
    /// </summary>
    public static bool HasEventSource(PlanNode root) =>
        PlanGraph.Nodes(root).Any(node => node is SourceNode source && EventSources.IsEventSource(source.Source));

    /// <summary>One line for <c>Explain()</c>: what the query reads of <paramref name="source"/>'s events.</summary>
    public static string Describe(SourceNode source, SourceMembers members) => members.Names is { } names
        ? $"MembersRead: {source.SourceName} reads {(names.Count == 0 ? "no member" : string.Join(", ", names))} of {Display(source.Type)} (a JSON source whose serializer LinqStream makes decodes only these)"
        : $"MembersRead: {source.SourceName} reads every member of {Display(source.Type)}: {members.WhyAll}";

    private static List<SourceNode> Visit(PlanNode node, Dictionary<PlanNode, List<SourceNode>> below, Dictionary<SourceNode, Read> reads)
    {
        if (below.TryGetValue(node, out var known))
        {
            return known;
        }

        var sources = new List<SourceNode>();
        if (node is SourceNode self)
        {
            sources.Add(self);
            reads[self] = new Read();
        }

        foreach (var child in node.Children)
        {
            foreach (var source in Visit(child, below, reads))
            {
                if (!sources.Contains(source))
                {
                    sources.Add(source);
                }
            }
        }

        below[node] = sources;
        var lambdas = LambdasOf(node);
        foreach (var type in sources.Select(s => s.Type).Distinct())
        {
            var reader = new LambdaReader(type);
            if (lambdas is null)
            {
                reader.Whole($"the operator {node.Name} is not one whose reads are known");
            }
            else
            {
                foreach (var (lambda, flows) in lambdas)
                {
                    reader.Read(lambda, flows);
                }
            }

            foreach (var source in sources.Where(s => s.Type == type))
            {
                reads[source].Add(reader);
            }
        }

        return sources;
    }

    /// <summary>
    /// The expressions of an operator over its inputs' values, each with whether its value flows on as the operator's output
    /// (a projection: a whole record there is followed downstream) or is used by the operator (a key, a filter, an aggregate's input);
    /// null for an operator this analysis does not know (every member is then read).
    /// </summary>
    private static List<(Expression Lambda, bool Flows)>? LambdasOf(PlanNode node)
    {
        var lambdas = new List<(Expression, bool)>();
        void Add(Expression? lambda, bool flows)
        {
            if (lambda is not null)
            {
                lambdas.Add((lambda, flows));
            }
        }

        switch (node)
        {
            case SourceNode source:
                Add(source.Time, false);
                Add(source.End, false);
                if (source.Source.GetType() is { IsGenericType: true } sourceType && sourceType.GetGenericTypeDefinition() == typeof(KeyPartitionedSource<>))
                {
                    // The partitioning key is evaluated on the events (a partition checks that each event is its own).
                    Add((sourceType.GetProperty(nameof(KeyPartitionedSource<int>.Partitioning))!.GetValue(source.Source) as KeyPartitioning)?.Key, false);
                }

                break;
            case WhereNode where:
                Add(where.Predicate, false);
                break;
            case SelectNode select:
                Add(select.Selector, true);
                break;
            case PipelineNode pipeline:
                foreach (var step in pipeline.Steps)
                {
                    Add(step.Lambda, !step.IsFilter);
                }

                break;
            case SelectManyNode many:
                Add(many.Selector, true);
                break;
            case WindowNode or LifetimeNode or UnionNode:
                break;
            case ClipNode clip:
                Add(clip.Key, false);
                break;
            case GroupNode group:
                Add(group.Key, false);
                Add(group.Having, false);
                Add(group.Whole?.Selector, true);
                AddAggregates(group.Whole?.Aggregates);
                break;
            case AggregateNode aggregate:
                Add(aggregate.Key, false);
                Add(aggregate.Selector, true);
                AddAggregates(aggregate.Aggregates);
                break;
            case JoinNode join:
                Add(join.LeftKey, false);
                Add(join.RightKey, false);
                Add(join.Result, true);
                break;
            case WindowJoinNode join:
                Add(join.LeftKey, false);
                Add(join.RightKey, false);
                Add(join.Result, true);
                break;
            case WindowArgMaxNode argMax:
                Add(argMax.Value, false);
                Add(argMax.Row, true);
                Add(argMax.Result, true);
                Add(argMax.LeftKey, false);
                Add(argMax.RightKey, false);
                break;
            case JoinKeyedFoldNode fused:
                Add(fused.LeftKey, false);
                Add(fused.RightKey, false);
                Add(fused.Pair, true);
                foreach (var step in fused.Steps)
                {
                    Add(step.Lambda, !step.IsFilter);
                }

                AddFold(fused.Fold);
                break;
            case KeyedFoldNode fold:
                AddFold(fold.Fold);
                break;
            default:
                return null;
        }

        return lambdas;

        void AddAggregates(WindowAggregates? aggregates)
        {
            if (aggregates is null)
            {
                return;
            }

            Add(aggregates.Result, true);
            foreach (var call in aggregates.Calls)
            {
                Add(call.Filter, false);
                Add(call.Value, false);
                Add(call.Seed, false);
                Add(call.Func, false);
                Add(call.ResultSelector, true);
                Add(call.Projection, true);
            }
        }

        void AddFold(KeyedFoldSpec fold)
        {
            Add(fold.Key, false);
            Add(fold.Input, false); // the user aggregate's input: the engine does not see what the aggregate reads of it
            Add(fold.Result, true);
        }
    }

    /// <summary>Whether a value of <paramref name="type"/> may hold a value of <paramref name="record"/> that the analysis can follow.</summary>
    private static bool Holds(Type type, Type record)
    {
        if (type == record)
        {
            return true;
        }

        if (type.HasElementType)
        {
            return Holds(type.GetElementType()!, record);
        }

        return type.IsGenericType && type.GetGenericArguments().Any(argument => Holds(argument, record));
    }

    private static string Display(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.Name;
        }

        int tick = type.Name.IndexOf('`', StringComparison.Ordinal);
        return $"{(tick < 0 ? type.Name : type.Name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(Display))}>";
    }

    /// <summary>What the operators above one source read of it so far.</summary>
    private sealed class Read
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public string? WhyAll { get; private set; }

        public void Add(LambdaReader reader)
        {
            Names.UnionWith(reader.Names);
            if (reader.WhyAll is { } why)
            {
                Whole(why);
            }
        }

        public void Whole(string why) => WhyAll ??= why;
    }

    /// <summary>
    /// Reads lambdas for one record type <c>T</c>: each expression whose type holds <c>T</c> must be consumed by a member read, by a
    /// safe LINQ to objects method (as its source, or as a lambda whose parameters are then followed), by an anonymous type or tuple
    /// that holds it, or as the value of a projection that flows on; anything else reads the whole record.
    /// </summary>
    private sealed class LambdaReader(Type record)
    {
        private readonly HashSet<LambdaExpression> _flowing = new(ReferenceEqualityComparer.Instance);

        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public string? WhyAll { get; private set; }

        public void Whole(string why) => WhyAll ??= why;

        public void Read(Expression expression, bool flows)
        {
            if (expression is LambdaExpression lambda)
            {
                if (flows)
                {
                    _flowing.Add(lambda);
                }

                Visit(lambda);
            }
            else
            {
                if (!flows && Holds(expression.Type, record))
                {
                    Whole($"'{Short(expression)}' uses a whole {Display(record)}");
                }

                Visit(expression);
            }
        }

        private void Visit(Expression? node)
        {
            if (node is null || WhyAll is not null)
            {
                return;
            }

            if (Children(node) is not { } children)
            {
                if (new Finder(record).Finds(node))
                {
                    Whole($"'{Short(node)}' is an expression this analysis does not follow, over a {Display(record)}");
                }

                return;
            }

            foreach (var child in children)
            {
                if (child is not null && Holds(child.Type, record) && !Consumes(node, child))
                {
                    Whole($"'{Short(node)}' uses a whole {Display(record)}");
                    return;
                }
            }

            foreach (var child in children)
            {
                Visit(child);
            }
        }

        /// <summary>Whether <paramref name="parent"/> uses its operand <paramref name="child"/> (whose type holds <c>T</c>) in a way this analysis follows; records the members read.</summary>
        private bool Consumes(Expression parent, Expression child)
        {
            switch (parent)
            {
                case MemberExpression member when ReferenceEquals(member.Expression, child):
                    if (child.Type != record)
                    {
                        return true; // a member of a group, window, anonymous type or tuple: its value, if it holds T, is followed in turn
                    }

                    if (member.Member is FieldInfo || member.Member is PropertyInfo { GetMethod: { } getter } && getter.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false))
                    {
                        Names.Add(member.Member.Name);
                        return true;
                    }

                    return false; // a property with a getter of its own may read any member
                case MethodCallExpression call when call.Object is null && call.Method.DeclaringType == typeof(Enumerable) && s_safeElementMethods.Contains(call.Method.Name):
                    if (ReferenceEquals(call.Arguments[0], child))
                    {
                        return call.Arguments.Count > 1 || !s_comparingWithoutSelector.Contains(call.Method.Name);
                    }

                    if (child is LambdaExpression argument)
                    {
                        if (call.Method.Name is nameof(Enumerable.Select) or nameof(Enumerable.SelectMany))
                        {
                            _flowing.Add(argument); // its value is the call's element: followed where the call's result goes
                        }

                        return true;
                    }

                    return false;
                case LambdaExpression lambda when ReferenceEquals(lambda.Body, child):
                    return _flowing.Contains(lambda);
                case NewExpression created when created.Type.IsGenericType && (IsAnonymous(created.Type) || IsTuple(created.Type)):
                    return true; // the container's type holds T, so what is read of it is followed
                default:
                    return false;
            }
        }

        /// <summary>The operands of <paramref name="node"/>; null for a node kind this analysis does not follow.</summary>
        private static IEnumerable<Expression?>? Children(Expression node) => node switch
        {
            LambdaExpression lambda => [lambda.Body],
            MemberExpression member => (Expression?[])[member.Expression],
            MethodCallExpression call => (Expression?[])[call.Object, .. call.Arguments],
            UnaryExpression unary => [unary.Operand],
            BinaryExpression binary => (Expression?[])[binary.Left, binary.Conversion, binary.Right],
            ConditionalExpression conditional => [conditional.Test, conditional.IfTrue, conditional.IfFalse],
            NewExpression created => created.Arguments,
            NewArrayExpression array => array.Expressions,
            MemberInitExpression init => [init.NewExpression, .. init.Bindings.SelectMany(Bound)],
            ListInitExpression list => [list.NewExpression, .. list.Initializers.SelectMany(i => i.Arguments)],
            InvocationExpression invocation => [invocation.Expression, .. invocation.Arguments],
            TypeBinaryExpression test => [test.Expression],
            IndexExpression index => (Expression?[])[index.Object, .. index.Arguments],
            ParameterExpression or ConstantExpression or DefaultExpression => [],
            _ => null,
        };

        private static IEnumerable<Expression> Bound(MemberBinding binding) => binding switch
        {
            MemberAssignment assignment => [assignment.Expression],
            MemberListBinding list => list.Initializers.SelectMany(i => i.Arguments),
            MemberMemberBinding nested => nested.Bindings.SelectMany(Bound),
            _ => [],
        };

        /// <summary>Finds any expression whose type holds the record under a node.</summary>
        private sealed class Finder(Type record) : ExpressionVisitor
        {
            private bool _found;

            public bool Finds(Expression node)
            {
                Visit(node);
                return _found;
            }

            [return: NotNullIfNotNull(nameof(node))]
            public override Expression? Visit(Expression? node)
            {
                if (node is not null && Holds(node.Type, record))
                {
                    _found = true;
                }

                return _found ? node : base.Visit(node);
            }

            protected override Expression VisitExtension(Expression node)
            {
                _found = true; // a node of its own kind: what it does with a record is not known
                return node;
            }
        }

        private static bool IsAnonymous(Type type) => type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) && type.Name.Contains("AnonymousType", StringComparison.Ordinal);

        private static bool IsTuple(Type type) => type.FullName is { } name && (name.StartsWith("System.ValueTuple`", StringComparison.Ordinal) || name.StartsWith("System.Tuple`", StringComparison.Ordinal));

        private static string Short(Expression node)
        {
            string text = node.ToString();
            return text.Length <= 120 ? text : text[..117] + "...";
        }
    }
}
