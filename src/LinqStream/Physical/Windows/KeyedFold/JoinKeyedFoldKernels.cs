using System.Linq.Expressions;
using LinqStream.Physical.Join;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Pipeline;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// What a <c>JoinKeyedFoldOperator</c> runs: the two key kernels (per arriving batch), the pair kernel (per batch of matched pairs:
/// the join's tagged result, the chain, the group's close and key and the aggregate's input, all inlined into one loop) and the
/// per-group result delegate.
/// </summary>
internal sealed class JoinKeyedFoldKernels<TLeft, TRight, TKey, TFoldKey, TIn, TAggResult, TResult> : IJoinKeyKernels<TLeft, TRight, TKey>
{
    private readonly KernelCompiler _compiler;
    private Action<TLeft[], ulong[]?, TKey[], int>? _leftKey;
    private Action<TRight[], ulong[]?, TKey[], int>? _rightKey;
    private PairKernel? _pairs;
    private Func<TFoldKey, long, long, TAggResult, TResult>? _result;

    public JoinKeyedFoldKernels(JoinKeyedFoldLambdas lambdas, KernelCompiler? kernels = null)
    {
        _compiler = kernels ?? KernelCompiler.Shared;
        Lambdas = lambdas;
    }

    /// <summary>
    /// <c>(leftPayloads, leftSlots, rights, count, kept, closes, keys, inputs)</c>: for each pair <c>i</c> of the live left event in
    /// slot <c>leftSlots[i]</c> and <c>rights[i]</c>, whether the chain kept it and, when it did, its group's close and key and the
    /// aggregate's input.
    /// </summary>
    public delegate void PairKernel(TLeft[] leftPayloads, int[] leftSlots, TRight[] rights, int count, bool[] kept, long[] closes, TFoldKey[] keys, TIn[] inputs);

    public JoinKeyedFoldLambdas Lambdas { get; }

    public string OperatorName => "JoinKeyedFold";

    public LambdaExpression LeftKeySelector => Lambdas.LeftKey;

    public LambdaExpression RightKeySelector => Lambdas.RightKey;

    public string Condition => $"{Lambdas.LeftKey} equals {Lambdas.RightKey}";

    /// <summary>Gets the chain as error messages name it: the pair, each step, the key and the aggregate's input.</summary>
    public string PairExpression =>
        $"{Lambdas.Pair}{string.Concat(Lambdas.Steps.Select(s => ", " + s))}, key {Lambdas.Key}, input {Lambdas.Input}";

    public Action<TLeft[], ulong[]?, TKey[], int> LeftKey => _leftKey ?? throw NotCompiled();

    public Action<TRight[], ulong[]?, TKey[], int> RightKey => _rightKey ?? throw NotCompiled();

    public PairKernel Pairs => _pairs ?? throw NotCompiled();

    /// <summary>Gets <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.</summary>
    public Func<TFoldKey, long, long, TAggResult, TResult> Result => _result ?? throw NotCompiled();

    public void CompileKernels()
    {
        _leftKey ??= ColumnKernel.Compile<TLeft, TKey>(Lambdas.LeftKey, _compiler);
        _rightKey ??= ColumnKernel.Compile<TRight, TKey>(Lambdas.RightKey, _compiler);
        _pairs ??= PipelineKernel.RecipeOf("JoinKeyedFold.Pairs", Lambdas.Steps, Lambdas.Pair, Lambdas.Key, Lambdas.Input) is { } recipe
            ? _compiler.Compile(recipe, PairLoop)
            : _compiler.Compile(PairLoop());
        _result ??= KeyedFoldResult.Compile<TFoldKey, TAggResult, TResult>(Lambdas.Result, _compiler);
    }

    /// <summary>
    /// <code>
    /// for (i = 0; i &lt; count; i++) {
    ///     v0 = pair(leftPayloads[leftSlots[i]], rights[i]);
    ///     if (!filter(v0)) { kept[i] = false; continue; }  v1 = projection(v0); ...
    ///     kept[i] = true; closes[i] = vN.Close; keys[i] = key(vN); inputs[i] = input(vN);
    /// }
    /// </code>
    /// </summary>
    private Expression<PairKernel> PairLoop()
    {
        var leftPayloads = Expression.Parameter(typeof(TLeft[]), "leftPayloads");
        var leftSlots = Expression.Parameter(typeof(int[]), "leftSlots");
        var rights = Expression.Parameter(typeof(TRight[]), "rights");
        var count = Expression.Parameter(typeof(int), "count");
        var kept = Expression.Parameter(typeof(bool[]), "kept");
        var closes = Expression.Parameter(typeof(long[]), "closes");
        var keys = Expression.Parameter(typeof(TFoldKey[]), "keys");
        var inputs = Expression.Parameter(typeof(TIn[]), "inputs");
        var i = Expression.Variable(typeof(int), "i");

        var loop = KernelBuilder.For(i, count, @continue =>
        {
            var variables = new List<ParameterExpression>();
            var body = new List<Expression>();
            var current = Expression.Variable(Lambdas.Pair.ReturnType, "v0");
            variables.Add(current);
            var left = Expression.ArrayIndex(leftPayloads, Expression.ArrayIndex(leftSlots, i));
            body.Add(Expression.Assign(current, Internal.LambdaInliner.Inline(Lambdas.Pair, left, Expression.ArrayIndex(rights, i))));
            foreach (var step in Lambdas.Steps)
            {
                var value = Internal.LambdaInliner.Inline(step.Lambda, current);
                if (step.IsFilter)
                {
                    body.Add(Expression.IfThen(
                        Expression.Not(value),
                        Expression.Block(Expression.Assign(Expression.ArrayAccess(kept, i), Expression.Constant(false)), Expression.Continue(@continue))));
                }
                else
                {
                    var next = Expression.Variable(step.Lambda.ReturnType, "v" + variables.Count);
                    variables.Add(next);
                    body.Add(Expression.Assign(next, value));
                    current = next;
                }
            }

            body.Add(Expression.Assign(Expression.ArrayAccess(kept, i), Expression.Constant(true)));
            body.Add(Expression.Assign(Expression.ArrayAccess(closes, i), Expression.Property(current, nameof(Closing<int>.Close))));
            body.Add(Expression.Assign(Expression.ArrayAccess(keys, i), As<TFoldKey>(Internal.LambdaInliner.Inline(Lambdas.Key, current))));
            body.Add(Expression.Assign(Expression.ArrayAccess(inputs, i), As<TIn>(Internal.LambdaInliner.Inline(Lambdas.Input, current))));
            return Expression.Block(variables, body);
        });

        return Expression.Lambda<PairKernel>(Expression.Block([i], loop), leftPayloads, leftSlots, rights, count, kept, closes, keys, inputs);
    }

    private static Expression As<T>(Expression value) => value.Type == typeof(T) ? value : Expression.Convert(value, typeof(T));

    private InvalidOperationException NotCompiled() =>
        new($"The kernels of JoinKeyedFold ({Condition}) were not compiled; the compiler's last stage compiles them.");
}

/// <summary>The lambdas of a <see cref="JoinKeyedFoldNode"/> that the physical operator compiles.</summary>
internal sealed record JoinKeyedFoldLambdas(
    LambdaExpression LeftKey, LambdaExpression RightKey, LambdaExpression Pair, IReadOnlyList<PipelineKernelStep> Steps, LambdaExpression Key, LambdaExpression Input, LambdaExpression Result);
