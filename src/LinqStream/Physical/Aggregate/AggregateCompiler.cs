using System.Linq.Expressions;
using System.Reflection;

namespace LinqStream.Physical.Aggregate;

/// <summary>The compiled form of a window's result selector: the incremental aggregates it needs and how to build a result.</summary>
internal sealed class AggregatePlan<T, TKey, TResult>
{
    public required AggregateColumn<T>[] Columns { get; init; }

    /// <summary>Gets <c>(key, windowStart, windowEnd, slot) =&gt; result</c>.</summary>
    public required Func<TKey, long, long, int, TResult> Result { get; init; }

    public required LambdaExpression ResultExpression { get; init; }

    /// <summary>Gets why the window is buffered, or null when every aggregate is incremental.</summary>
    public string? BufferReason { get; init; }
}

/// <summary>
/// Finds the aggregates in a selector such as <c>g =&gt; new { g.Key, N = g.Count(), Top = g.Max(b =&gt; b.Price) }</c>,
/// maps each to an incremental <see cref="AggregateColumn{T}"/>, and rewrites the selector to read their results.
/// </summary>
/// <remarks>
/// Recognised (over the group, after any <c>Where</c>/<c>Select</c> chain): <c>Count</c>, <c>LongCount</c>, <c>Sum</c>, <c>Min</c>,
/// <c>Max</c>, <c>Average</c>, <c>Any</c>, <c>All</c>, <c>Distinct().Count()</c>, <c>OrderBy[Descending](f).Take(k)</c>, and
/// <c>Aggregate(IAggregate)</c>. Any other use of the group keeps the window's events (buffering), and says so.
/// </remarks>
internal static class AggregateCompiler
{
    public static AggregatePlan<T, TKey, TResult> Compile<T, TKey, TResult>(LambdaExpression selector, bool strict)
    {
        var group = selector.Parameters[0];
        var key = Expression.Parameter(typeof(TKey), "key");
        var start = Expression.Parameter(typeof(long), "windowStart");
        var end = Expression.Parameter(typeof(long), "windowEnd");
        var slot = Expression.Parameter(typeof(int), "slot");
        var rewriter = new Rewriter<T, TKey>(group, key, start, end, slot);
        var body = rewriter.Visit(selector.Body);
        if (body.Type != typeof(TResult))
        {
            body = Expression.Convert(body, typeof(TResult));
        }

        string? bufferReason = rewriter.Buffer is null ? null : Internal.Strings.WindowBuffered(selector.ToString(), rewriter.BufferedUse!);
        if (bufferReason is not null && strict)
        {
            throw new QueryTranslationException(bufferReason) { Operator = "Select", Reasons = [bufferReason] };
        }

        var lambda = Expression.Lambda<Func<TKey, long, long, int, TResult>>(body, key, start, end, slot);
        return new AggregatePlan<T, TKey, TResult>
        {
            Columns = [.. rewriter.Columns],
            Result = lambda.Compile(),
            ResultExpression = lambda,
            BufferReason = bufferReason,
        };
    }

    private sealed class Rewriter<T, TKey>(ParameterExpression group, ParameterExpression key, ParameterExpression start, ParameterExpression end, ParameterExpression slot)
        : ExpressionVisitor
    {
        private static readonly ConstructorInfo s_bounds = typeof(WindowBounds).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, [typeof(long), typeof(long)])!;

        public List<AggregateColumn<T>> Columns { get; } = [];

        public BufferColumn<T>? Buffer { get; private set; }

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

            // Any other use of the group needs its events: keep them (one buffer column serves every such use).
            if (Buffer is null)
            {
                Buffer = new BufferColumn<T>("Buffer(all events)");
                Columns.Add(Buffer);
            }

            BufferedUse ??= "the group is used as a whole";
            var call = Expression.Call(Expression.Constant(Buffer), nameof(BufferColumn<T>.Group), [typeof(TKey)], key, start, end, slot);
            return Expression.Convert(call, node.Type);
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

                            var input = new AggregateInput(df, de ?? Identity(distinct.Arguments[0]));
                            return Read(Create(typeof(DistinctCountColumn<,>), input.Value!.ReturnType, "DistinctCount(" + input + ")", input), "Result", call.Type);
                        }

                        if (!TryParseSource(call.Arguments[0], out var filter, out var element))
                        {
                            return null;
                        }

                        if (call.Arguments.Count == 2)
                        {
                            filter = And(filter, Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), element));
                        }

                        var count = new CountColumn<T>($"Count({new AggregateInput(filter, null)})", new AggregateInput(filter, null));
                        Columns.Add(count);
                        return Read(count, "Result", call.Type);
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

                        var count = new CountColumn<T>($"{method.Name}({new AggregateInput(filter, null)})", new AggregateInput(filter, null));
                        Columns.Add(count);
                        var read = Expression.Call(Expression.Constant(count), nameof(CountColumn<T>.Result), null, slot);
                        return all ? Expression.Equal(read, Expression.Constant(0L)) : Expression.GreaterThan(read, Expression.Constant(0L));
                    }

                case nameof(Enumerable.Sum) or nameof(Enumerable.Average) or nameof(Enumerable.Min) or nameof(Enumerable.Max):
                    {
                        if (!TryParseSource(call.Arguments[0], out var filter, out var element))
                        {
                            return null;
                        }

                        var value = call.Arguments.Count == 2 ? Compose(Lambda(call.Arguments[1], ElementType(call.Arguments[0])), element) : element ?? Identity(call.Arguments[0]);
                        return Numeric(method.Name, new AggregateInput(filter, value), call.Type);
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

                        int k = Expression.Lambda<Func<int>>(call.Arguments[1]).Compile()();
                        var column = TopK(ordered, k);
                        if (column is null)
                        {
                            return null;
                        }

                        Expression read = Expression.Call(Expression.Constant(column), "Result", null, slot);
                        if (projection is not null)
                        {
                            read = Expression.Call(typeof(Enumerable), nameof(Enumerable.Select), [typeof(T), projection.ReturnType], read, projection);
                        }

                        return read.Type == call.Type ? read : Expression.Convert(read, call.Type);
                    }

                case nameof(Enumerable.MaxBy) or nameof(Enumerable.MinBy) when call.Arguments.Count == 2 && TryParseSource(call.Arguments[0], out var filter, out var element) && element is null:
                    {
                        // The first event with the best key, as LINQ (events whose key is null are skipped); top-1 in event order.
                        var key = Lambda(call.Arguments[1], typeof(T));
                        if (!key.ReturnType.IsValueType || Nullable.GetUnderlyingType(key.ReturnType) is not null)
                        {
                            filter = And(filter, Expression.Lambda(Expression.NotEqual(key.Body, Expression.Constant(null, key.ReturnType)), key.Parameters));
                        }

                        var column = CreateTopK(filter, key, null, 1, method.Name == nameof(Enumerable.MaxBy), method.Name);
                        Expression read = Expression.Call(Expression.Constant(column), "Result", null, slot);
                        string pick = typeof(T).IsValueType ? nameof(Enumerable.First) : nameof(Enumerable.FirstOrDefault);
                        return Expression.Call(typeof(Enumerable), pick, [typeof(T)], read);
                    }

                default:
                    return null;
            }
        }

        private Expression? Numeric(string name, AggregateInput input, Type resultType)
        {
            var v = input.Value!.ReturnType;
            string description = $"{name}({input})";
            if (name is "Min" or "Max")
            {
                var type = typeof(MinMaxColumn<,>).MakeGenericType(typeof(T), v);
                var column = (AggregateColumn<T>)Activator.CreateInstance(type, description, input, name == "Max")!;
                Columns.Add(column);
                return Read(column, "Result", resultType);
            }

            // Nullable overloads skip nulls (as LINQ): fold only the events whose value is not null, and give null for an empty average.
            bool nullable = false;
            if (Nullable.GetUnderlyingType(v) is { } underlying)
            {
                nullable = true;
                var body = input.Value.Body;
                var hasValue = Expression.Lambda(Expression.NotEqual(body, Expression.Constant(null, v)), input.Value.Parameters);
                input = new AggregateInput(And(input.Filter, hasValue), Expression.Lambda(Expression.Property(body, nameof(Nullable<int>.Value)), input.Value.Parameters));
                v = underlying;
            }

            bool average = name == "Average";
            string suffix = average && nullable ? "OrNull" : string.Empty;
            if (v == typeof(int) || v == typeof(long))
            {
                var column = (AggregateColumn<T>)Activator.CreateInstance(typeof(IntegerSumColumn<,>).MakeGenericType(typeof(T), v), description, input, average)!;
                Columns.Add(column);
                return Read(column, average ? "ResultDouble" + suffix : "Result", resultType);
            }

            if (v == typeof(float) || v == typeof(double) || v == typeof(decimal))
            {
                var acc = v == typeof(decimal) ? typeof(decimal) : typeof(double);
                var column = (AggregateColumn<T>)Activator.CreateInstance(typeof(OrderedSumColumn<,,>).MakeGenericType(typeof(T), v, acc), description, input, average)!;
                Columns.Add(column);
                string read = !average ? (v == typeof(float) ? "ResultSingle" : "Result")
                    : "ResultAverage" + (v == typeof(decimal) ? "Decimal" : v == typeof(float) ? "Single" : "Double") + suffix;
                return Read(column, read, resultType);
            }

            return null; // other element types: buffered
        }

        /// <summary>A top-k column for <c>OrderBy[Descending](f)[.ThenBy[Descending](h)...]</c> over the group (after any Where), or null.</summary>
        private AggregateColumn<T>? TopK(Expression ordered, int k)
        {
            var keys = new List<(LambdaExpression Key, bool Descending)>();
            while (ordered is MethodCallExpression { Arguments.Count: 2 } order && order.Method.DeclaringType == typeof(Enumerable)
                && order.Method.Name is nameof(Enumerable.ThenBy) or nameof(Enumerable.ThenByDescending) or nameof(Enumerable.OrderBy) or nameof(Enumerable.OrderByDescending)
                && IsOneArgument(order.Arguments[1]) && !References(order.Arguments[1]))
            {
                keys.Insert(0, (Lambda(order.Arguments[1], typeof(T)), order.Method.Name.EndsWith("Descending", StringComparison.Ordinal)));
                ordered = Strip(order.Arguments[0]);
                if (order.Method.Name.StartsWith("OrderBy", StringComparison.Ordinal))
                {
                    if (!TryParseSource(ordered, out var filter, out var element) || element is not null)
                    {
                        return null;
                    }

                    if (keys.Count == 1)
                    {
                        return CreateTopK(filter, keys[0].Key, null, k, keys[0].Descending, "Top" + k);
                    }

                    // Several keys: one tuple key compared component by component, each in its own direction.
                    var x = Expression.Parameter(typeof(T), "x");
                    var parts = keys.Select(p => Internal.LambdaInliner.Inline(p.Key, x)).ToArray();
                    var tupleType = TupleType(parts.Select(e => e.Type).ToArray());
                    var tuple = Expression.Lambda(Expression.New(tupleType.GetConstructors()[0], parts), x);
                    var comparerType = typeof(CompositeKeyComparer<>).MakeGenericType(tupleType);
                    var comparer = Activator.CreateInstance(comparerType, keys.Select(p => p.Descending).ToArray())!;
                    return CreateTopK(filter, tuple, comparer, k, descending: false, "Top" + k);
                }
            }

            return null;
        }

        private static Type TupleType(Type[] types) => types.Length switch
        {
            2 => typeof(ValueTuple<,>).MakeGenericType(types),
            3 => typeof(ValueTuple<,,>).MakeGenericType(types),
            4 => typeof(ValueTuple<,,,>).MakeGenericType(types),
            _ => throw new QueryTranslationException("Top-k with more than four sort keys is not supported; combine keys into one.") { Operator = "ThenBy" },
        };

        private AggregateColumn<T> CreateTopK(LambdaExpression? filter, LambdaExpression sortKey, object? comparer, int k, bool descending, string name)
        {
            var input = new AggregateInput(filter, sortKey);
            var type = typeof(TopKColumn<,>).MakeGenericType(typeof(T), sortKey.ReturnType);
            var column = (AggregateColumn<T>)Activator.CreateInstance(type, $"{name}({(descending ? "desc " : string.Empty)}{input})", input, Math.Max(0, k), descending, comparer)!;
            Columns.Add(column);
            return column;
        }

        private Expression? UserAggregate(MethodCallExpression call)
        {
            if (!TryParseSource(call.Arguments[0], out var filter, out var element) || References(call.Arguments[1]))
            {
                return null;
            }

            var args = call.Method.GetGenericArguments(); // TInput, TState, TResult
            object aggregate = Expression.Lambda<Func<object>>(Expression.Convert(call.Arguments[1], typeof(object))).Compile()();
            var input = new AggregateInput(filter, element ?? Identity(call.Arguments[0]));
            var type = typeof(UserAggregateColumn<,,,,>).MakeGenericType(typeof(T), args[0], args[1], args[2], aggregate.GetType());
            var column = (AggregateColumn<T>)Activator.CreateInstance(type, $"Aggregate({aggregate.GetType().Name}, {input})", input, aggregate)!;
            Columns.Add(column);
            return Read(column, "Result", call.Type);
        }

        /// <summary><c>Aggregate(func)</c>, <c>Aggregate(seed, func)</c> and <c>Aggregate(seed, func, resultSelector)</c> over the group (after any Where/Select).</summary>
        private Expression? Fold(MethodCallExpression call)
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

            var input = new AggregateInput(filter, element ?? Identity(call.Arguments[0]));
            var value = input.Value!.ReturnType;
            var accumulator = func.Parameters[0].Type;
            if (value != func.Parameters[1].Type)
            {
                return null;
            }

            string description = $"Aggregate({(seed is null ? string.Empty : seed + ", ")}{func}, {input})";
            var type = typeof(FoldColumn<,,>).MakeGenericType(typeof(T), value, accumulator);
            var column = (AggregateColumn<T>)Activator.CreateInstance(type, description, input, seed, func)!;
            Columns.Add(column);
            Expression read = Expression.Call(Expression.Constant(column), "Result", null, slot);
            if (result is not null)
            {
                read = Internal.LambdaInliner.Inline(result, read);
            }

            return read.Type == call.Type ? read : Expression.Convert(read, call.Type);
        }

        private AggregateColumn<T> Create(Type definition, Type value, string description, AggregateInput input)
        {
            var column = (AggregateColumn<T>)Activator.CreateInstance(definition.MakeGenericType(typeof(T), value), description, input)!;
            Columns.Add(column);
            return column;
        }

        private Expression Read(AggregateColumn<T> column, string method, Type type)
        {
            Expression read = Expression.Call(Expression.Constant(column), method, null, slot);
            return read.Type == type ? read : Expression.ConvertChecked(read, type);
        }

        /// <summary>Parses <c>g</c>, <c>g.Where(p)</c>, <c>g.Select(f)</c> and chains of them into a filter and an element selector over <typeparamref name="T"/>.</summary>
        private bool TryParseSource(Expression source, out LambdaExpression? filter, out LambdaExpression? element)
        {
            source = Strip(source);
            filter = null;
            element = null;
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
                    element = innerElement;
                    return true;
                }

                if (call.Method.Name == nameof(Enumerable.Select))
                {
                    filter = innerFilter;
                    element = Compose(lambda, innerElement);
                    return true;
                }
            }

            return false;
        }

        private static LambdaExpression Compose(LambdaExpression outer, LambdaExpression? inner) =>
            inner is null ? outer : Expression.Lambda(Internal.LambdaInliner.Inline(outer, inner.Body), inner.Parameters);

        private static LambdaExpression? And(LambdaExpression? first, LambdaExpression second)
        {
            if (first is null)
            {
                return second;
            }

            return Expression.Lambda(Expression.AndAlso(first.Body, Internal.LambdaInliner.Inline(second, first.Parameters[0])), first.Parameters);
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

        private bool References(Expression e) => new ReferenceFinder(group).Finds(e);

        private static Expression Strip(Expression? e)
        {
            while (e is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked or ExpressionType.Quote or ExpressionType.TypeAs } u)
            {
                e = u.Operand;
            }

            return e!;
        }
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
