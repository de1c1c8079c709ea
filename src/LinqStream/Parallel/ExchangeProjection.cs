using System.Linq.Expressions;
using System.Reflection;

namespace LinqStream.Parallel;

/// <summary>
/// What a split keyed aggregate's tasks read of each input event: the members its key selector and the aggregates of its result
/// selector use, or why it needs the whole event. An exchange that copies events (between silos: docs/cluster.md, "Projection below
/// the exchange") carries only those members; the in-process exchange passes the events themselves, so it does not use it.
/// </summary>
/// <remarks>
/// Conservative by construction: an event (a parameter of the element type) may only be used as the object of a member access
/// (<c>b.Auction</c>), the group only as a sequence handed to <see cref="Enumerable"/>'s methods or for its key and window; anything
/// else (the event passed to a method, returned, compared, a <c>First()</c> of the group, a buffered window, which keeps the events
/// themselves in its checkpoint) takes the whole event, with the reason.
/// </remarks>
internal sealed class ExchangeProjection
{
    private ExchangeProjection(Type element, IReadOnlyList<string>? members, string? whyWhole)
    {
        Element = element;
        Members = members;
        WhyWhole = whyWhole;
    }

    /// <summary>Gets the type of the events that cross.</summary>
    public Type Element { get; }

    /// <summary>Gets the names of the element's members the tasks read (declaration order), or null when they need whole events.</summary>
    public IReadOnlyList<string>? Members { get; }

    /// <summary>Gets why the tasks need whole events, or null when <see cref="Members"/> is set.</summary>
    public string? WhyWhole { get; }

    /// <summary>Whole events, for <paramref name="why"/>.</summary>
    public static ExchangeProjection Whole(Type element, string why) => new(element, null, why);

    /// <summary>
    /// What a window aggregate over <paramref name="element"/> reads of each event: its key selector's and result selector's uses of
    /// the events; whole events when the aggregate buffers its windows (<paramref name="bufferReason"/> not null).
    /// </summary>
    public static ExchangeProjection Analyze(Type element, LambdaExpression? keySelector, LambdaExpression resultSelector, string? bufferReason)
    {
        if (bufferReason is not null)
        {
            return Whole(element, "the aggregate keeps each window's events themselves (buffered), in its state and its checkpoint");
        }

        // The lambdas must be over the events themselves (a key selector over T, a result selector over T's window or group): a shape
        // this analysis does not know takes whole events.
        if ((keySelector is not null && (keySelector.Parameters.Count != 1 || keySelector.Parameters[0].Type != element))
            || resultSelector.Parameters.Count != 1
            || !resultSelector.Parameters[0].Type.GetInterfaces().Append(resultSelector.Parameters[0].Type).Contains(typeof(IEnumerable<>).MakeGenericType(element)))
        {
            return Whole(element, "the aggregate's lambdas are not over the events themselves");
        }

        var reads = new Reads(element);
        if (keySelector is not null)
        {
            reads.Visit(keySelector);
        }

        reads.Visit(resultSelector);
        if (reads.WhyWhole is { } why)
        {
            return Whole(element, why);
        }

        var names = DeclaredMembers(element).Select(m => m.Name).Where(reads.Members.Contains).ToList();
        if (reads.Members.FirstOrDefault(m => !names.Contains(m)) is { } hidden)
        {
            return Whole(element, $"'{hidden}' is not a public member of {element.Name}");
        }

        return new ExchangeProjection(element, names, null);
    }

    /// <summary>The text <c>Explain()</c> shows for it.</summary>
    public string Describe()
    {
        if (Members is null)
        {
            return $"whole {Element.Name} events ({WhyWhole})";
        }

        int count = DeclaredMembers(Element).Count;
        string which = Members.Count == 0 ? "no member of " + Element.Name : string.Join(", ", Members.Select(m => Element.Name + "." + m));
        return $"{which} ({Members.Count} of {count} members: the key selector and the aggregates read nothing else)";
    }

    private static List<MemberInfo> DeclaredMembers(Type element) =>
        [.. element.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).Cast<MemberInfo>()
            .Concat(element.GetFields(BindingFlags.Public | BindingFlags.Instance)).OrderBy(m => m.MetadataToken)];

    /// <summary>Collects the element's members read; the first use of an event other than a member access sets <see cref="WhyWhole"/>.</summary>
    private sealed class Reads(Type element) : ExpressionVisitor
    {
        public HashSet<string> Members { get; } = new(StringComparer.Ordinal);

        public string? WhyWhole { get; private set; }

        [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(node))]
        public override Expression? Visit(Expression? node) => WhyWhole is null ? base.Visit(node) : node;

        protected override Expression VisitLambda<TDelegate>(Expression<TDelegate> node)
        {
            Visit(node.Body); // its parameters are declarations, not uses
            return node;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            if (Mentions(node.Type))
            {
                Refuse($"'{node.Name}' is used whole");
            }

            return node;
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression is ParameterExpression parameter && Mentions(parameter.Type))
            {
                if (parameter.Type == element)
                {
                    Members.Add(node.Member.Name);
                    return node;
                }

                if (!Mentions(node.Type))
                {
                    return node; // the group's key or window
                }
            }

            if (node.Expression is { } target && Mentions(target.Type) && target is not ParameterExpression)
            {
                Refuse($"'{node}' reads a member of an event taken whole from the group");
                return node;
            }

            return base.VisitMember(node);
        }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (Mentions(node.Type))
            {
                Refuse($"the constant '{node}' stands for events (or compares them) whole");
            }

            return node;
        }

        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method.DeclaringType != typeof(Enumerable))
            {
                if ((node.Object is { } target && Mentions(target.Type)) || node.Arguments.Any(a => Mentions(a.Type)))
                {
                    Refuse($"'{node}' hands events to {node.Method.DeclaringType?.Name}.{node.Method.Name}, which may read any member");
                    return node;
                }

                return base.VisitMethodCall(node);
            }

            if (Mentions(node.Type))
            {
                Refuse($"'{node}' takes events of the group whole");
                return node;
            }

            VisitEnumerableArguments(node);
            return node;
        }

        /// <summary>The arguments of one of <see cref="Enumerable"/>'s methods: the group, or a sequence made from it, is fine there.</summary>
        private void VisitEnumerableArguments(MethodCallExpression call)
        {
            foreach (var argument in call.Arguments)
            {
                var inner = argument;
                while (inner is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.TypeAs } unary)
                {
                    inner = unary.Operand;
                }

                switch (inner)
                {
                    case ParameterExpression parameter when IsSequence(parameter.Type):
                        break; // the group (or a group of it) enumerated
                    case MethodCallExpression sequence when sequence.Method.DeclaringType == typeof(Enumerable) && IsSequence(sequence.Type):
                        VisitEnumerableArguments(sequence); // a sequence made from the group (Where, Select, OrderBy ...)
                        break;
                    case LambdaExpression lambda:
                        Visit(lambda);
                        break;
                    case var other when Mentions(other.Type):
                        Refuse($"'{other}' in '{call}' stands for events (or compares them) whole");
                        break;
                    default:
                        Visit(inner);
                        break;
                }
            }
        }

        private bool IsSequence(Type type) =>
            type != element && type != typeof(string) && (type.IsArray || type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)));

        private bool Mentions(Type type) =>
            type == element || (type.IsArray && Mentions(type.GetElementType()!)) || (type.IsGenericType && type.GetGenericArguments().Any(Mentions));

        private void Refuse(string why) => WhyWhole ??= why;
    }
}
