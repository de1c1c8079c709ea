using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Internal;
using LinqStream.Plan;

namespace LinqStream.Query.Translation;

/// <summary>
/// Recognises the aggregates in a window's result selector such as <c>g =&gt; new { g.Key, N = g.Count(), Top = g.Max(b =&gt; b.Price) }</c>:
/// each becomes an <see cref="AggregateCall"/> (kind, filter, value) and the selector a result shape that reads them.
/// </summary>
/// <remarks>
/// Recognised (over the group, after any <c>Where</c>/<c>Select</c> chain): <c>Count</c>, <c>LongCount</c>, <c>Sum</c>, <c>Min</c>,
/// <c>Max</c>, <c>Average</c>, <c>Any</c>, <c>All</c>, <c>Distinct().Count()</c>, <c>OrderBy[Descending](f).Take(k)</c>, <c>MinBy</c>,
/// <c>MaxBy</c>, <c>Aggregate(...)</c> folds and <c>Aggregate(IAggregate)</c>. Any other use of the group keeps the window's events
/// (<see cref="AggregateKind.Buffer"/>), and says why. Physical planning maps each call to a column and reads nothing else.
/// </remarks>
internal static class AggregateRecognizer
{
    /// <summary>Recognises the aggregates of <paramref name="selector"/> (over <c>IWindowGroup&lt;TKey, T&gt;</c> or <c>IWindow&lt;T&gt;</c>).</summary>
    /// <param name="selector">The window's result selector.</param>
    /// <param name="element">The window's event type <c>T</c>.</param>
    /// <param name="key">The grouping key's type (the physical no-key type for a whole window).</param>
    /// <param name="strict">Whether a buffered selector is refused.</param>
    /// <param name="failures">Receives each refusal (operator, reason with its fix); the result is then not to be run.</param>
    public static WindowAggregates Recognize(LambdaExpression selector, Type element, Type key, bool strict, List<(string Operator, string Reason)> failures)
    {
        var group = selector.Parameters[0];
        var keyParameter = Expression.Parameter(key, "key");
        var start = Expression.Parameter(typeof(long), "windowStart");
        var end = Expression.Parameter(typeof(long), "windowEnd");
        var visitor = new Recognizer(group, element, keyParameter, start, end, failures);
        var body = visitor.Visit(selector.Body);
        string? bufferReason = visitor.BufferedUse is null ? null : Strings.WindowBuffered(selector.ToString(), visitor.BufferedUse);
        if (bufferReason is not null && strict)
        {
            failures.Add(("Select", bufferReason));
        }

        return new WindowAggregates
        {
            Calls = visitor.Calls,
            Result = Expression.Lambda(body, keyParameter, start, end),
            BufferReason = bufferReason,
        };
    }

    private sealed class Recognizer(ParameterExpression group, Type eventType, ParameterExpression key, ParameterExpression start, ParameterExpression end, List<(string Operator, string Reason)> failures)
        : ExpressionVisitor
    {
        private static readonly ConstructorInfo s_bounds = typeof(WindowBounds).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, [typeof(long), typeof(long)])!;

        private AggregateCall? _buffer;

        public List<AggregateCall> Calls { get; } = [];

        public string? BufferedUse { get; private set; }

        protected override Expression VisitMethodCall(MethodCallExpression node) => TryAggregate(node) ?? base.VisitMethodCall(node);

        protected override Expression VisitMember(MemberExpression node)
        {
            if (Strip(node.Expression) == group)
            {
                if (node.Member.Name == nameof(IWindowGroup<int, int>.Key))
                {
                    return key;
                }

                if (node.Member.Name == nameof(IWindow<int>.Window))
                {
                    return Expression.New(s_bounds, start, end);
                }
            }

            return base.VisitMember(node);
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            if (node != group)
            {
                return node;
            }

            // Any other use of the group needs its events: keep them (one buffer serves every such use).
            _buffer ??= Add(AggregateKind.Buffer, "Buffer(all events)", node.Type);
            BufferedUse ??= "the group is used as a whole";
            return _buffer.Placeholder;
        }

        private Expression? TryAggregate(MethodCallExpression call)
        {
            var method = call.Method;
            if (method.DeclaringType == typeof(AggregateExtensions) && method.Name == nameof(AggregateExtensions.Aggregate))
            {
                return UserAggregate(call);
            }

            if (method.DeclaringType != typeof(Enumerable) || call.Arguments.Count == 0)
            {
                return null;
            }

            if (method.Name == nameof(Enumerable.Aggregate))
            {
                return Fold(call);
            }

            // An aggregate whose lambda uses the group itself (g.Count(e => e.I == g.Max(x => x.I))) has no one-pass form: the
            // group is kept (buffered) and the inner aggregates are read from their own columns.
            for (int a = 1; a < call.Arguments.Count; a++)
            {
                // Take(k) has a count; every other recognised overload takes a function (Min(comparer) and the like do not translate).
                if (References(call.Arguments[a]) || !IsOneArgument(call.Arguments[a]) || (method.Name != nameof(Enumerable.Take) && !IsFunction(call.Arguments[a])))
                {
                    return null;
                }
            }

            switch (method.Name)
            {
                case nameof(Enumerable.Count) or nameof(Enumerable.LongCount):
                    {
                        if (Strip(call.Arguments[0]) is MethodCallExpression { Method.Name: nameof(Enumerable.Distinct) } distinct
                            && distinct.Method.DeclaringType == typeof(Enumerable) && distinct.Arguments.Count == 1
                            && TryParseSource(distinct.Arguments[0], out var df, out var de))
                        {
                            // Distinct().Count(p) counts the distinct values that satisfy p: the same as Where(p).Distinct().Count().
                            if (call.Arguments.Count == 2)
                            {
                                df = And(df, Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), de));
                            }

                            var value = de ?? Identity(distinct.Arguments[0]);
                            return Add(AggregateKind.DistinctCount, "DistinctCount(" + AggregateCall.FormatInput(df, value) + ")", call.Type, df, value).Placeholder;
                        }

                        if (!TryParseSource(call.Arguments[0], out var filter, out var element))
                        {
                            return null;
                        }

                        if (call.Arguments.Count == 2)
                        {
                            filter = And(filter, Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), element));
                        }

                        return Add(AggregateKind.Count, $"Count({AggregateCall.FormatInput(filter, null)})", call.Type, filter).Placeholder;
                    }

                case nameof(Enumerable.Any) or nameof(Enumerable.All):
                    {
                        if (!TryParseSource(call.Arguments[0], out var filter, out var element))
                        {
                            return null;
                        }

                        bool all = method.Name == nameof(Enumerable.All);
                        if (call.Arguments.Count == 2)
                        {
                            var predicate = Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), element);
                            filter = And(filter, all ? Expression.Lambda(Expression.Not(predicate.Body), predicate.Parameters) : predicate);
                        }

                        var kind = all ? AggregateKind.All : AggregateKind.Any;
                        return Add(kind, $"{method.Name}({AggregateCall.FormatInput(filter, null)})", typeof(bool), filter).Placeholder;
                    }

                case nameof(Enumerable.Sum) or nameof(Enumerable.Average) or nameof(Enumerable.Min) or nameof(Enumerable.Max):
                    {
                        if (!TryParseSource(call.Arguments[0], out var filter, out var element))
                        {
                            return null;
                        }

                        var value = call.Arguments.Count == 2 ? Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), element) : element ?? Identity(call.Arguments[0]);
                        return Numeric(method.Name, filter, value, call.Type);
                    }

                case nameof(Enumerable.Take) when call.Arguments.Count == 2 && !References(call.Arguments[1]):
                    {
                        // g.OrderBy[Descending](f)[.ThenBy[Descending](h)...][.Select(p)].Take(k), as query syntax writes top-k too.
                        var ordered = Strip(call.Arguments[0]);
                        LambdaExpression? projection = null;
                        if (ordered is MethodCallExpression { Method.Name: nameof(Enumerable.Select), Arguments.Count: 2 } select
                            && select.Method.DeclaringType == typeof(Enumerable) && Strip(select.Arguments[1]) is LambdaExpression { Parameters.Count: 1 } p)
                        {
                            projection = p;
                            ordered = Strip(select.Arguments[0]);
                        }

                        int k = Expression.Lambda<Func<int>>(call.Arguments[1]).Compile(preferInterpretation: true)(); // evaluated once: interpreting is cheaper than compiling
                        return TopK(ordered, k, projection, call.Type)?.Placeholder;
                    }

                case nameof(Enumerable.MaxBy) or nameof(Enumerable.MinBy) when call.Arguments.Count == 2 && TryParseSource(call.Arguments[0], out var filter, out var element) && element is null:
                    {
                        // The first event with the best key, as LINQ (events whose key is null are skipped); top-1 in event order.
                        var sortKey = Lambda(call.Arguments[1], eventType);
                        if (!sortKey.ReturnType.IsValueType || Nullable.GetUnderlyingType(sortKey.ReturnType) is not null)
                        {
                            filter = And(filter, Expression.Lambda(Expression.NotEqual(sortKey.Body, Expression.Constant(null, sortKey.ReturnType)), sortKey.Parameters));
                        }

                        bool max = method.Name == nameof(Enumerable.MaxBy);
                        var kind = max ? AggregateKind.MaxBy : AggregateKind.MinBy;
                        return Add(kind, TopKDescription(method.Name, max, filter, sortKey), call.Type, filter, sortKey, k: 1, descending: max).Placeholder;
                    }

                default:
                    return null;
            }
        }

        private ParameterExpression? Numeric(string name, LambdaExpression? filter, LambdaExpression value, Type resultType)
        {
            var v = value.ReturnType;
            string description = $"{name}({AggregateCall.FormatInput(filter, value)})";
            if (name is "Min" or "Max")
            {
                return Add(name == "Max" ? AggregateKind.Max : AggregateKind.Min, description, resultType, filter, value).Placeholder;
            }

            // Nullable overloads skip nulls (as LINQ): fold only the events whose value is not null, and give null for an empty average.
            bool nullable = false;
            if (Nullable.GetUnderlyingType(v) is { } underlying)
            {
                nullable = true;
                var hasValue = Expression.Lambda(Expression.NotEqual(value.Body, Expression.Constant(null, v)), value.Parameters);
                filter = And(filter, hasValue);
                value = Expression.Lambda(Expression.Property(value.Body, nameof(Nullable<int>.Value)), value.Parameters);
                v = underlying;
            }

            if (v != typeof(int) && v != typeof(long) && v != typeof(float) && v != typeof(double) && v != typeof(decimal))
            {
                return null; // other element types: buffered
            }

            var kind = name == "Average" ? AggregateKind.Average : AggregateKind.Sum;
            var call = new AggregateCall
            {
                Kind = kind, Description = description, Placeholder = Placeholder(resultType), Filter = filter, Value = value, SkipsNulls = nullable,
            };
            Calls.Add(call);
            return call.Placeholder;
        }

        /// <summary>A top-k for <c>OrderBy[Descending](f)[.ThenBy[Descending](h)...]</c> over the group (after any Where), or null.</summary>
        private AggregateCall? TopK(Expression ordered, int k, LambdaExpression? projection, Type resultType)
        {
            var keys = new List<(LambdaExpression Key, bool Descending)>();
            while (ordered is MethodCallExpression { Arguments.Count: 2 } order && order.Method.DeclaringType == typeof(Enumerable)
                && order.Method.Name is nameof(Enumerable.ThenBy) or nameof(Enumerable.ThenByDescending) or nameof(Enumerable.OrderBy) or nameof(Enumerable.OrderByDescending)
                && IsOneArgument(order.Arguments[1]) && !References(order.Arguments[1]))
            {
                keys.Insert(0, (Lambda(order.Arguments[1], eventType), order.Method.Name.EndsWith("Descending", StringComparison.Ordinal)));
                ordered = Strip(order.Arguments[0]);
                if (order.Method.Name.StartsWith("OrderBy", StringComparison.Ordinal))
                {
                    if (!TryParseSource(ordered, out var filter, out var selected) || selected is not null)
                    {
                        return null;
                    }

                    string name = "Top" + k;
                    k = Math.Max(0, k);
                    if (keys.Count == 1)
                    {
                        var (sortKey, descending) = keys[0];
                        return Add(AggregateKind.TopK, TopKDescription(name, descending, filter, sortKey), resultType, filter, sortKey, k, descending, projection: projection);
                    }

                    if (keys.Count > 4)
                    {
                        failures.Add(("ThenBy", "Top-k with more than four sort keys is not supported; combine keys into one."));
                        return null;
                    }

                    // Several keys: one tuple key compared component by component, each in its own direction.
                    var x = Expression.Parameter(eventType, "x");
                    var parts = keys.Select(p => LambdaInliner.Inline(p.Key, x)).ToArray();
                    var tuple = Expression.Lambda(Expression.New(TupleType(parts.Select(e => e.Type).ToArray()).GetConstructors()[0], parts), x);
                    return Add(AggregateKind.TopK, TopKDescription(name, false, filter, tuple), resultType, filter, tuple, k, false, [.. keys.Select(p => p.Descending)], projection);
                }
            }

            return null;
        }

        private static string TopKDescription(string name, bool descending, LambdaExpression? filter, LambdaExpression sortKey) =>
            $"{name}({(descending ? "desc " : string.Empty)}{AggregateCall.FormatInput(filter, sortKey)})";

        private static Type TupleType(Type[] types) => types.Length switch
        {
            2 => typeof(ValueTuple<,>).MakeGenericType(types),
            3 => typeof(ValueTuple<,,>).MakeGenericType(types),
            _ => typeof(ValueTuple<,,,>).MakeGenericType(types),
        };

        private ParameterExpression? UserAggregate(MethodCallExpression call)
        {
            if (!TryParseSource(call.Arguments[0], out var filter, out var element) || References(call.Arguments[1]))
            {
                return null;
            }

            var args = call.Method.GetGenericArguments(); // TInput, TState, TResult
            object instance = Expression.Lambda<Func<object>>(Expression.Convert(call.Arguments[1], typeof(object))).Compile(preferInterpretation: true)();
            var value = element ?? Identity(call.Arguments[0]);
            var aggregate = new AggregateCall
            {
                Kind = AggregateKind.User,
                Description = $"Aggregate({instance.GetType().Name}, {AggregateCall.FormatInput(filter, value)})",
                Placeholder = Placeholder(call.Type),
                Filter = filter,
                Value = value,
                Instance = instance,
                InstanceTypes = [args[0], args[1], args[2]],
            };
            Calls.Add(aggregate);
            return aggregate.Placeholder;
        }

        /// <summary><c>Aggregate(func)</c>, <c>Aggregate(seed, func)</c> and <c>Aggregate(seed, func, resultSelector)</c> over the group (after any Where/Select).</summary>
        private ParameterExpression? Fold(MethodCallExpression call)
        {
            int n = call.Arguments.Count;
            if (n < 2 || !TryParseSource(call.Arguments[0], out var filter, out var element))
            {
                return null;
            }

            var seed = n >= 3 ? call.Arguments[1] : null;
            var result = n == 4 ? Strip(call.Arguments[3]) as LambdaExpression : null;
            if (Strip(call.Arguments[n == 2 ? 1 : 2]) is not LambdaExpression { Parameters.Count: 2 } func
                || References(func) || (seed is not null && References(seed)) || (n == 4 && (result is not { Parameters.Count: 1 } || References(result))))
            {
                return null; // a delegate value, or a fold that reads the group itself: buffered
            }

            var value = element ?? Identity(call.Arguments[0]);
            if (value.ReturnType != func.Parameters[1].Type)
            {
                return null;
            }

            var fold = new AggregateCall
            {
                Kind = AggregateKind.Fold,
                Description = $"Aggregate({(seed is null ? string.Empty : seed + ", ")}{func}, {AggregateCall.FormatInput(filter, value)})",
                Placeholder = Placeholder(call.Type),
                Filter = filter,
                Value = value,
                Seed = seed,
                Func = func,
                ResultSelector = result,
            };
            Calls.Add(fold);
            return fold.Placeholder;
        }

        private AggregateCall Add(
            AggregateKind kind, string description, Type type, LambdaExpression? filter = null, LambdaExpression? value = null, int k = 0, bool descending = false,
            IReadOnlyList<bool>? directions = null, LambdaExpression? projection = null)
        {
            var call = new AggregateCall
            {
                Kind = kind, Description = description, Placeholder = Placeholder(type), Filter = filter, Value = value, K = k, Descending = descending,
                KeyDirections = directions, Projection = projection,
            };
            Calls.Add(call);
            return call;
        }

        private ParameterExpression Placeholder(Type type) => Expression.Parameter(type, "aggregate" + Calls.Count);

        /// <summary>Parses <c>g</c>, <c>g.Where(p)</c>, <c>g.Select(f)</c> and chains of them into a filter and an element selector over the window's events.</summary>
        private bool TryParseSource(Expression source, out LambdaExpression? filter, out LambdaExpression? selected)
        {
            source = Strip(source);
            filter = null;
            selected = null;
            if (source == group)
            {
                return true;
            }

            if (source is MethodCallExpression call && call.Method.DeclaringType == typeof(Enumerable) && call.Arguments.Count == 2
                && call.Method.Name is nameof(Enumerable.Where) or nameof(Enumerable.Select)
                && IsFunction(call.Arguments[1])
                && IsOneArgument(call.Arguments[1]) && !References(call.Arguments[1])
                && TryParseSource(call.Arguments[0], out var innerFilter, out var innerElement))
            {
                var lambda = Lambda(call.Arguments[1], ElementType(call.Arguments[0]));
                if (call.Method.Name == nameof(Enumerable.Where))
                {
                    filter = And(innerFilter, Compose(lambda, innerElement));
                    selected = innerElement;
                    return true;
                }

                if (call.Method.Name == nameof(Enumerable.Select))
                {
                    filter = innerFilter;
                    selected = Compose(lambda, innerElement);
                    return true;
                }
            }

            return false;
        }

        private bool References(Expression e) => new ReferenceFinder(group).Finds(e);
    }

    private static LambdaExpression Compose(LambdaExpression outer, LambdaExpression? inner) =>
        inner is null ? outer : Expression.Lambda(LambdaInliner.Inline(outer, inner.Body), inner.Parameters);

    private static LambdaExpression? And(LambdaExpression? first, LambdaExpression second)
    {
        if (first is null)
        {
            return second;
        }

        return Expression.Lambda(Expression.AndAlso(first.Body, LambdaInliner.Inline(second, first.Parameters[0])), first.Parameters);
    }

    private static LambdaExpression Identity(Expression source)
    {
        var type = source.Type.GetInterfaces().Append(source.Type)
            .First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)).GetGenericArguments()[0];
        var x = Expression.Parameter(type, "x");
        return Expression.Lambda(x, x);
    }

    /// <summary>
    /// The lambda argument of an aggregate over elements of <paramref name="element"/>; a method group (<c>g.Count(IsBig)</c>) becomes
    /// a direct call and any other delegate (a captured <c>Func</c>) an invocation of it.
    /// </summary>
    private static LambdaExpression Lambda(Expression e, Type element)
    {
        var stripped = Strip(e);
        if (stripped is LambdaExpression lambda)
        {
            return lambda;
        }

        var x = Expression.Parameter(element, "x");
        if (MethodGroup(stripped) is { } method && method.GetParameters().Length == 1)
        {
            Expression argument = method.GetParameters()[0].ParameterType == element ? x : Expression.Convert(x, method.GetParameters()[0].ParameterType);
            return Expression.Lambda(Expression.Call(method, argument), x);
        }

        return Expression.Lambda(Expression.Invoke(stripped, x), x);
    }

    /// <summary>The static method of <c>Delegate.CreateDelegate(type, null, method)</c> or <c>method.CreateDelegate(type, null)</c>, as the compiler writes method groups.</summary>
    private static MethodInfo? MethodGroup(Expression e)
    {
        if (e is not MethodCallExpression call || call.Method.Name != nameof(Delegate.CreateDelegate))
        {
            return null;
        }

        var args = call.Object is null ? call.Arguments.Skip(1).ToList() : [call.Object, .. call.Arguments];
        var method = args.OfType<ConstantExpression>().Select(c => c.Value).OfType<MethodInfo>().FirstOrDefault();
        bool staticTarget = args.OfType<ConstantExpression>().Any(c => c.Value is null && c.Type == typeof(object));
        return method is { IsStatic: true } && staticTarget ? method : null;
    }

    /// <summary>Whether an argument is a one-parameter function (a lambda, method group or delegate), not an index-taking overload's.</summary>
    private static bool IsOneArgument(Expression argument)
    {
        var stripped = Strip(argument);
        if (stripped is LambdaExpression lambda)
        {
            return lambda.Parameters.Count == 1;
        }

        // The delegate type is on the outer conversion (a method group is 'Convert(method.CreateDelegate(...), Func<T, bool>)').
        var type = argument is UnaryExpression { NodeType: ExpressionType.Quote } quote ? quote.Operand.Type : argument.Type;
        return !typeof(Delegate).IsAssignableFrom(type) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Func<,>));
    }

    /// <summary>Whether an argument is a lambda or a delegate value (not a count, a comparer or another object).</summary>
    private static bool IsFunction(Expression argument) =>
        Strip(argument) is LambdaExpression || typeof(Delegate).IsAssignableFrom(argument is UnaryExpression { NodeType: ExpressionType.Quote } q ? q.Operand.Type : argument.Type);

    private static Type ElementType(Expression source) => Identity(source).ReturnType;

    private static Expression Strip(Expression? e)
    {
        while (e is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked or ExpressionType.Quote or ExpressionType.TypeAs } u)
        {
            e = u.Operand;
        }

        return e!;
    }

    private sealed class ReferenceFinder(ParameterExpression target) : ExpressionVisitor
    {
        private bool _found;

        public bool Finds(Expression e)
        {
            _found = false;
            Visit(e);
            return _found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= node == target;
            return node;
        }
    }
}
