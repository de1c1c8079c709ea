using System.Linq.Expressions;
using System.Reactive.Linq;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.SelectMany;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Translation;

/// <summary>Translates a query expression (calls of <see cref="QStream"/> and Rx <c>Qbservable</c> operators) into a logical plan.</summary>
/// <remarks>
/// Each <c>TranslateXxx</c> returns null with a one-sentence reason when it cannot translate; the translator throws once, at the end,
/// with the printed expression and every reason. The same expression object used twice becomes one shared plan node.
/// </remarks>
internal sealed partial class QueryTranslator
{
    private readonly Dictionary<Expression, PlanNode> _memo = new(ReferenceEqualityComparer.Instance);
    private readonly List<(string Operator, string Reason)> _failures = [];
    private bool _optionsGiven;

    public QueryOptions Options { get; private set; } = QueryOptions.Default;

    /// <summary>The translation stage: <paramref name="query"/> → logical plan, with the query's options put in <paramref name="context"/>.</summary>
    /// <exception cref="QueryTranslationException">Once, quoting the query and every reason, when any part of it cannot run as a stream.</exception>
    public static PlanNode Translate(Expression query, QueryCompilationContext context)
    {
        var translator = new QueryTranslator();
        var plan = translator.Translate(query);
        context.Options = translator.Options;
        return plan;
    }

    public PlanNode Translate(Expression query)
    {
        var plan = Visit(query);
        plan = RecognizeAggregates(plan, new Dictionary<PlanNode, PlanNode>(ReferenceEqualityComparer.Instance));
        Validate(plan, new HashSet<PlanNode>(ReferenceEqualityComparer.Instance));
        if (_failures.Count > 0)
        {
            throw Internal.Error.TranslationFailed(query, _failures);
        }

        return plan;
    }

    /// <summary>
    /// Recognises the aggregates of every window aggregate once its selector is final (after any <c>let</c> composition), and of
    /// every group stream that is never aggregated (materialized whole); refusals (a buffered window in strict mode) go to the list.
    /// </summary>
    private PlanNode RecognizeAggregates(PlanNode node, Dictionary<PlanNode, PlanNode> done)
    {
        if (done.TryGetValue(node, out var known))
        {
            return known;
        }

        var children = node.Children;
        PlanNode[]? updated = null;
        for (int i = 0; i < children.Count; i++)
        {
            var child = RecognizeAggregates(children[i], done);
            if (!ReferenceEquals(child, children[i]))
            {
                updated ??= [.. children];
                updated[i] = child;
            }
        }

        var result = updated is null ? node : node.Update(updated);
        result = result switch
        {
            AggregateNode { Aggregates: null } aggregate => new AggregateNode(
                aggregate.Source, aggregate.Window, aggregate.Key, aggregate.Selector, Recognize(aggregate.Selector, aggregate.Source.Type, aggregate.Key)),
            GroupNode { Whole: null, Having: null } group => Whole(group),
            _ => result,
        };
        done[node] = result;
        return result;
    }

    private GroupNode Whole(GroupNode group)
    {
        var g = Expression.Parameter(group.Type, "g");
        var identity = Expression.Lambda(g, g);
        return new GroupNode(group.Window, group.Key, null, (identity, Recognize(identity, group.Window.Type, group.Key)));
    }

    private WindowAggregates Recognize(LambdaExpression selector, Type element, LambdaExpression? key) =>
        AggregateRecognizer.Recognize(selector, element, key?.ReturnType ?? typeof(Physical.Aggregate.NoKey), Options.Strict, _failures);

    /// <summary>Refuses the plans no physical operator can run, so that every refusal comes from translation.</summary>
    private void Validate(PlanNode node, HashSet<PlanNode> seen)
    {
        if (!seen.Add(node))
        {
            return;
        }

        switch (node)
        {
            case WindowNode { Window.Kind: WindowKind.Session }:
                _failures.Add(("SessionWindow", Internal.Strings.SessionNeedsAggregate()));
                break;
            case GroupNode { Having: { } having }:
                _failures.Add(("Where", Internal.Strings.HavingNeedsSelect(having.ToString())));
                break;
            case JoinNode join when join.LeftKey.ReturnType != join.RightKey.ReturnType:
                _failures.Add((join.Name, Internal.Strings.JoinKeyTypes(join.LeftKey.ToString(), join.RightKey.ToString())));
                break;
        }

        // A group stream that is never aggregated is materialized as a whole (GroupNode), its window kept in its child.
        foreach (var child in node is GroupNode group ? group.Window.Children : node.Children)
        {
            Validate(child, seen);
        }
    }

    private PlanNode Visit(Expression expression)
    {
        if (_memo.TryGetValue(expression, out var known))
        {
            return known;
        }

        var node = expression switch
        {
            MethodCallExpression call => TranslateCall(call),
            // Only a LinqStream query holds a LinqStream expression; an Rx AsQbservable() query's expression is itself (no recursion into it).
            ConstantExpression { Value: IQbservable { Provider: Linq.Provider.QStreamProvider } query } => Visit(query.Expression),
            _ => Fail(expression.NodeType.ToString(), $"'{expression}' is not a LinqStream query; start from QStream.From(...)."),
        };
        _memo[expression] = node;
        return node;
    }

    private PlanNode TranslateCall(MethodCallExpression call)
    {
        var method = call.Method;
        bool ours = method.DeclaringType == typeof(QStream);
        bool rx = method.DeclaringType == typeof(Qbservable);
        if (!ours && !rx)
        {
            return Fail(method.Name, $"'{method.DeclaringType?.Name}.{method.Name}' is not a LinqStream or Rx query operator.");
        }

        return method.Name switch
        {
            "From" when ours => TranslateFrom(call),
            "WithOptions" when ours => TranslateWithOptions(call),
            "Where" => TranslateWhere(call),
            "Select" => TranslateSelect(call),
            "SelectMany" => TranslateSelectMany(call),
            "Union" or "Merge" => TranslateUnion(call),
            "TumblingWindow" or "HoppingWindow" or "SessionWindow" when ours => TranslateWindow(call),
            "GroupBy" when ours => TranslateGroupBy(call),
            "WithLifetime" when ours => TranslateWithLifetime(call),
            "ExtendLifetime" or "ShiftTime" or "ToPointEvents" when ours => TranslateLifetime(call),
            "ClipLifetime" when ours => new ClipNode(Visit(call.Arguments[0]), QuotedLambda.Of(call.Arguments[1])),
            "Over" when ours => TranslateOver(call),
            "Join" or "LeftJoin" or "WhereNotExists" when ours => TranslateJoin(call),
            _ => TranslateRejected(call),
        };
    }

    private PlanNode TranslateRejected(MethodCallExpression call)
    {
        // Translate what lies below too, so every failure in the query is reported at once.
        if (call.Arguments.Count > 0 && typeof(IQbservable).IsAssignableFrom(call.Arguments[0].Type))
        {
            Visit(call.Arguments[0]);
        }

        if (call.Method.DeclaringType == typeof(Qbservable) && call.Method.Name is "Join" or "GroupJoin")
        {
            return Fail(call.Method.Name, $"Rx '{call.Method.Name}' closes events with duration observables, which run in processing time. " +
                "Use the temporal join instead: 'join ... on ... equals' in query syntax (QStream.Join), where events match while their lifetimes overlap; set lifetimes with WithLifetime or ExtendLifetime.");
        }

        var entry = TranslationCatalogue.FindRejected(call.Method.Name);
        string reason = entry is null
            ? $"'{call.Method.Name}' has no streaming translation. Use the operators of LinqStream.QStream (see docs/queries.md)."
            : $"'{call.Method.Name}' cannot run on a stream: {entry.Reason}. {entry.Fix}.";
        return Fail(call.Method.Name, reason);
    }

    private PlanNode TranslateOver(MethodCallExpression call)
    {
        var types = call.Method.GetGenericArguments(); // T, TKey, TState, TResult
        var rows = (int)((ConstantExpression)call.Arguments[2]).Value!;
        var idle = (TimeSpan)((ConstantExpression)call.Arguments[3]).Value!;
        var aggregate = ((ConstantExpression)call.Arguments[4]).Value!;
        return new Physical.Over.OverNode(Visit(call.Arguments[0]), QuotedLambda.Of(call.Arguments[1]), rows, idle == TimeSpan.MaxValue ? long.MaxValue : idle.Ticks, aggregate, types[2], types[3]);
    }

    private static PlanNode TranslateFrom(MethodCallExpression call)
    {
        var source = ((ConstantExpression)call.Arguments[0]).Value!;
        var time = QuotedLambda.Of(call.Arguments[1]);
        var policy = (IngressPolicy)((ConstantExpression)call.Arguments[2]).Value!;
        var name = (string)((ConstantExpression)call.Arguments[3]).Value!;
        return new SourceNode(source, call.Method.GetGenericArguments()[0], time, null, policy, name);
    }

    /// <summary>
    /// The outermost <c>WithOptions</c> decides (the last call the user made, as with any fluent setting): the translator meets it
    /// first and ignores those inside it, such as options a helper put on a source before the user set the query's own.
    /// </summary>
    private PlanNode TranslateWithOptions(MethodCallExpression call)
    {
        if (!_optionsGiven)
        {
            Options = (QueryOptions)((ConstantExpression)call.Arguments[1]).Value!;
            _optionsGiven = true;
        }

        return Visit(call.Arguments[0]);
    }

    private PlanNode TranslateWhere(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        var predicate = QuotedLambda.Of(call.Arguments[1]);
        if (predicate.Parameters.Count != 1)
        {
            return Fail("Where", $"'Where' with an index ('{predicate}') has no meaning on a stream, whose events have times, not positions. Use the event's time or a key instead.");
        }

        return source switch
        {
            GroupNode group => new GroupNode(group.Window, group.Key, group.Having is null ? predicate : AndAlso(group.Having, predicate)),
            // A filter on a windowed stream keeps it windowed (so GroupBy can follow); windows and filters commute.
            WindowNode window => new WindowNode(new WhereNode(window.Source, predicate), window.Window),
            _ => new WhereNode(source, predicate),
        };
    }

    private PlanNode TranslateSelect(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        var selector = QuotedLambda.Of(call.Arguments[1]);
        if (selector.Parameters.Count != 1)
        {
            return Fail("Select", $"'Select' with an index ('{selector}') has no meaning on a stream, whose events have times, not positions. Use the event's time instead.");
        }

        var parameter = selector.Parameters[0].Type;
        if (source is WindowNode window && parameter.IsGenericType && parameter.GetGenericTypeDefinition() == typeof(IWindow<>))
        {
            return new AggregateNode(window.Source, window.Window, null, selector);
        }

        if (source is GroupNode group)
        {
            return Aggregate(group, selector);
        }

        if (source is WindowNode windowed)
        {
            // A per-event projection of a windowed stream stays windowed; projections and windows commute.
            return new WindowNode(new SelectNode(windowed.Source, selector), windowed.Window);
        }

        if (source is AggregateNode aggregate && MemberOfNewFoldingRewriter.CarriesGroup(aggregate.Selector.Body, aggregate.Selector.Parameters[0]))
        {
            // 'let c = g.Count()' in query syntax: the group travels inside an anonymous object to the next Select. Compose the two
            // selectors and fold the member accesses, so the aggregate sees 'g.Count()' and 'g.Key' again.
            var composed = MemberOfNewFoldingRewriter.Fold(Internal.LambdaInliner.Inline(selector, aggregate.Selector.Body));
            return new AggregateNode(aggregate.Source, aggregate.Window, aggregate.Key, Expression.Lambda(composed, aggregate.Selector.Parameters));
        }

        return new SelectNode(source, selector);
    }

    private PlanNode TranslateSelectMany(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        var collection = QuotedLambda.Of(call.Arguments[1]);
        if (collection.Parameters.Count != 1 || !IsEnumerable(collection.ReturnType))
        {
            return Fail("SelectMany", $"'SelectMany' over '{collection}' is not supported: the selector must return an IEnumerable<T> computed from one event. Join two streams with 'join ... on ... equals ...' instead.");
        }

        if (call.Arguments.Count == 2)
        {
            return new SelectManyNode(source, collection);
        }

        // from a in s from b in f(a) select r(a, b)  ==>  a => f(a).Select(b => r(a, b))
        var result = QuotedLambda.Of(call.Arguments[2]);
        var element = SelectManyNode.ElementOf(collection.ReturnType);
        var inner = Expression.Lambda(Internal.LambdaInliner.Inline(result, collection.Parameters[0], result.Parameters[1]), result.Parameters[1]);
        var select = Expression.Call(typeof(Enumerable), nameof(Enumerable.Select), [element, result.ReturnType], collection.Body, inner);
        return new SelectManyNode(source, Expression.Lambda(select, collection.Parameters));
    }

    private PlanNode TranslateUnion(MethodCallExpression call)
    {
        var inputs = new List<PlanNode> { Visit(call.Arguments[0]) };
        foreach (var argument in call.Arguments.Skip(1))
        {
            if (argument is NewArrayExpression array)
            {
                inputs.AddRange(array.Expressions.Select(Visit));
            }
            else if (argument is ConstantExpression { Value: IQbservable { Provider: Linq.Provider.QStreamProvider } other })
            {
                inputs.Add(Visit(other.Expression));
            }
            else if (argument is MethodCallExpression || (argument.Type.IsAssignableTo(typeof(IQbservable)) && argument is not ConstantExpression))
            {
                inputs.Add(Visit(argument));
            }
            else
            {
                return Fail(call.Method.Name, $"'{call.Method.Name}' with '{argument}' is not supported: merge LinqStream streams only (QStream.From(...) turns an observable into one).");
            }
        }

        return new UnionNode(inputs);
    }

    private PlanNode TranslateWindow(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        var first = (TimeSpan)((ConstantExpression)call.Arguments[1]).Value!;
        var spec = call.Method.Name switch
        {
            "TumblingWindow" => WindowSpec.Tumbling(first.Ticks),
            "HoppingWindow" => WindowSpec.Hopping(first.Ticks, ((TimeSpan)((ConstantExpression)call.Arguments[2]).Value!).Ticks),
            _ => WindowSpec.Session(first.Ticks, ((TimeSpan?)((ConstantExpression)call.Arguments[2]).Value)?.Ticks ?? 0),
        };
        return new WindowNode(source, spec);
    }

    private PlanNode TranslateGroupBy(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        if (source is not WindowNode window)
        {
            return Fail("GroupBy", "'GroupBy' needs a windowed stream: write 'stream.TumblingWindow(size).GroupBy(key)'.");
        }

        return new GroupNode(window, QuotedLambda.Of(call.Arguments[1]), null);
    }

    private PlanNode TranslateWithLifetime(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        if (source is not SourceNode ingress)
        {
            return Fail("WithLifetime", $"'WithLifetime' must be applied to a source (QStream.From(...).WithLifetime(start, end)), not to '{source.Name}': lifetimes are read once, at ingress. Move it next to QStream.From, or use ExtendLifetime/ShiftTime later in the query.");
        }

        return ingress.WithLifetime(QuotedLambda.Of(call.Arguments[1]), QuotedLambda.Of(call.Arguments[2]));
    }

    private PlanNode TranslateLifetime(MethodCallExpression call)
    {
        var source = Visit(call.Arguments[0]);
        return call.Method.Name switch
        {
            "ExtendLifetime" => new LifetimeNode(source, LifetimeKind.Extend, ((TimeSpan)((ConstantExpression)call.Arguments[1]).Value!).Ticks),
            "ShiftTime" => new LifetimeNode(source, LifetimeKind.Shift, ((TimeSpan)((ConstantExpression)call.Arguments[1]).Value!).Ticks),
            _ => new LifetimeNode(source, LifetimeKind.Point, 0),
        };
    }

    private PlanNode TranslateJoin(MethodCallExpression call)
    {
        var left = Visit(call.Arguments[0]);
        var right = Visit(call.Arguments[1]);
        var kind = call.Method.Name switch { "Join" => JoinKind.Inner, "LeftJoin" => JoinKind.LeftOuter, _ => JoinKind.Anti };
        var result = kind == JoinKind.Anti ? null : QuotedLambda.Of(call.Arguments[4]);
        return new JoinNode(left, right, kind, QuotedLambda.Of(call.Arguments[2]), QuotedLambda.Of(call.Arguments[3]), result);
    }

    /// <summary><c>GroupBy(k).[Where(having)].Select(s)</c> becomes one aggregate; a having clause filters its results.</summary>
    private static PlanNode Aggregate(GroupNode group, LambdaExpression selector)
    {
        if (group.Having is null)
        {
            return new AggregateNode(group.Window.Source, group.Window.Window, group.Key, selector);
        }

        var g = selector.Parameters[0];
        var pair = typeof(ValueTuple<,>).MakeGenericType(typeof(bool), selector.ReturnType);
        var ctor = pair.GetConstructor([typeof(bool), selector.ReturnType])!;
        var body = Expression.Condition(
            Internal.LambdaInliner.Inline(group.Having, g),
            Expression.New(ctor, Expression.Constant(true), selector.Body),
            Expression.New(ctor, Expression.Constant(false), Expression.Default(selector.ReturnType)));
        var aggregate = new AggregateNode(group.Window.Source, group.Window.Window, group.Key, Expression.Lambda(body, g));
        var p = Expression.Parameter(pair, "r");
        var keep = new WhereNode(aggregate, Expression.Lambda(Expression.Field(p, "Item1"), p));
        return new SelectNode(keep, Expression.Lambda(Expression.Field(p, "Item2"), p));
    }

    private PlanNode Fail(string op, string reason)
    {
        _failures.Add((op, reason));
        return new SourceNode(Array.Empty<object>(), typeof(object), Expression.Lambda(Expression.Constant(0L), Expression.Parameter(typeof(object))), null, IngressPolicy.Throw, "failed");
    }

    private static LambdaExpression AndAlso(LambdaExpression a, LambdaExpression b) =>
        Expression.Lambda(Expression.AndAlso(a.Body, Internal.LambdaInliner.Inline(b, a.Parameters[0])), a.Parameters);

    private static bool IsEnumerable(Type type) =>
        (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>))
        || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
}
