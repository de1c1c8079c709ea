using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Left;

/// <summary>The physical node of a temporal left outer equi-join (<c>LeftJoin</c>).</summary>
/// <remarks>
/// <para>Lifetimes: every result of the inner join (the intersection of each overlapping pair with equal keys), plus, for
/// each left event that overlaps no right event with an equal key during its whole lifetime, one result
/// <c>resultSelector(left, default(TRight))</c> with the left event's lifetime. A left event with a null key matches
/// nothing and so always gives the second kind of result.</para>
/// <para>State: as the inner join, plus the left events not yet decided and the inner results held back behind them.
/// That a left event found no match is known only when the watermark passes its end.</para>
/// <para>Ordering: results come out in start order, so they are held back: the output watermark stays at or below the
/// start of the earliest left event that has no match yet and whose end the watermark has not passed (or the smaller
/// input watermark when there is none). A long-lived unmatched left event therefore delays every later result until its
/// end.</para>
/// </remarks>
internal sealed class LeftJoinStream<TLeft, TRight, TKey, TResult> : EquiJoinStream<TLeft, TRight, TKey, TResult>
{
    public LeftJoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
        : base(left, right, new JoinKernels<TLeft, TRight, TKey, TResult>(JoinKind.LeftOuter, "LeftJoin", leftKey, rightKey, resultSelector, kernels ?? KernelCompiler.Shared))
    {
    }
}
