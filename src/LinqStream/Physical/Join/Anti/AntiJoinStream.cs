using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join.Anti;

/// <summary>The physical node of a temporal anti-join (<c>WhereNotExists</c>): the left events that no right event with an equal key overlaps.</summary>
/// <remarks>
/// <para>Lifetimes: a left event is emitted unchanged iff no right event with an equal key overlaps its lifetime
/// <c>[Start, End)</c>; a left event with a null key is always emitted (null equals nothing).</para>
/// <para>State: the input that is ahead is buffered; per key, the right events alive at the watermark and the left
/// events not decided yet. A left event that meets a right event is dropped at once.</para>
/// <para>Ordering: that no right event overlaps a left event is known only when the watermark passes its end; events
/// come out in start order, and the output watermark stays at or below the start of the earliest undecided left event
/// (or the smaller input watermark when there is none).</para>
/// </remarks>
internal sealed class AntiJoinStream<TLeft, TRight, TKey> : EquiJoinStream<TLeft, TRight, TKey, TLeft>
{
    public AntiJoinStream(PhysicalStream<TLeft> left, PhysicalStream<TRight> right, LambdaExpression leftKey, LambdaExpression rightKey, KernelCompiler? kernels = null)
        : base(left, right, new JoinKernels<TLeft, TRight, TKey, TLeft>(JoinKind.Anti, "WhereNotExists", leftKey, rightKey, JoinResultKernel.LeftItself<TLeft, TRight>(), kernels ?? KernelCompiler.Shared))
    {
    }

    /// <summary>The join condition only: the result is the left event itself.</summary>
    public override string Detail => Kernels.Condition;
}
