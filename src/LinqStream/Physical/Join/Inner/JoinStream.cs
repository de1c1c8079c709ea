using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Inner;

/// <summary>The physical node of a temporal inner equi-join (<c>join ... on ... equals ...</c>).</summary>
/// <remarks>
/// <para>Lifetimes: a left and a right event match when their keys are equal (null keys never match) and their lifetimes
/// <c>[Start, End)</c> overlap; the result <c>resultSelector(left, right)</c> lives in the intersection
/// <c>[max(starts), min(ends))</c>.</para>
/// <para>State: the input that is ahead is buffered until the other input's watermark catches up; per key, the events of
/// each side alive at the watermark are kept, and freed when the watermark passes their end.</para>
/// <para>Ordering: results come out in start order as soon as both watermarks pass their start; the output watermark is
/// the smaller of the two input watermarks.</para>
/// </remarks>
internal sealed class JoinStream<TLeft, TRight, TKey, TResult> : EquiJoinStream<TLeft, TRight, TKey, TResult>
{
    public JoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
        : base(left, right, new JoinKernels<TLeft, TRight, TKey, TResult>(JoinKind.Inner, "Join", leftKey, rightKey, resultSelector, kernels ?? KernelCompiler.Shared))
    {
    }
}
