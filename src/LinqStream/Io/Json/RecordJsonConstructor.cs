using System.Linq.Expressions;
using System.Reflection;

namespace LinqStream.Io.Json;

/// <summary>Compiles, once per record type, the code that makes a record from its <see cref="RecordSlots"/>.</summary>
/// <remarks>
/// <para>Before/after, for <c>record Bid { long Auction { get; init; } string Channel { get; init; } = ""; }</c>:</para>
/// <code>
/// slots => { var r = new Bid(); if ((slots.Seen &amp; 1) != 0) r.Auction = slots.Longs[0]; if ((slots.Seen &amp; 2) != 0) r.Channel = (string)slots.Objects[0]; return r; }
/// </code>
/// <para>A member the JSON did not give is not set, so an initializer's value stays, as with System.Text.Json's reflection metadata
/// (its source-generated metadata sets a missing <c>init</c>-only member to its default: <see cref="RecordJsonMember.AssignWhenMissing"/>);
/// a constructor parameter the JSON did not give takes its default value.</para>
/// </remarks>
internal static class RecordJsonConstructor
{
    public static Func<RecordSlots, T> Compile<T>(ConstructorInfo? constructor, RecordJsonMember[] members)
    {
        var slots = Expression.Parameter(typeof(RecordSlots), "slots");
        var seen = Expression.Variable(typeof(ulong), "seen");
        var nulls = Expression.Variable(typeof(ulong), "nulls");
        var record = Expression.Variable(typeof(T), "record");
        var body = new List<Expression>
        {
            Expression.Assign(seen, Expression.Property(slots, nameof(RecordSlots.Seen))),
            Expression.Assign(nulls, Expression.Property(slots, nameof(RecordSlots.Nulls))),
        };

        var arguments = new Expression[members.Count(m => m.Parameter >= 0)];
        for (int i = 0; i < members.Length; i++)
        {
            var member = members[i];
            if (member.Parameter >= 0)
            {
                // A parameter a projection skips (Ignored) takes its default value, as when the JSON does not give it.
                arguments[member.Parameter] = member.Kind == RecordMemberKind.Ignored
                    ? Missing(member)
                    : Expression.Condition(Given(seen, i), Value(slots, nulls, member, i), Missing(member));
            }
        }

        body.Add(Expression.Assign(record, constructor is null ? Expression.New(typeof(T)) : Expression.New(constructor, arguments)));
        for (int i = 0; i < members.Length; i++)
        {
            var member = members[i];
            if (member.Member is not null && member.Kind == RecordMemberKind.Ignored && member.AssignWhenMissing)
            {
                // An init-only member a projection skips: what System.Text.Json's source-generated metadata gives a missing one.
                body.Add(Expression.Assign(Expression.MakeMemberAccess(record, member.Member), Missing(member)));
            }
            else if (member.Member is not null && member.Kind != RecordMemberKind.Ignored)
            {
                var target = Expression.MakeMemberAccess(record, member.Member);
                body.Add(member.AssignWhenMissing
                    ? Expression.Assign(target, Expression.Condition(Given(seen, i), Value(slots, nulls, member, i), Missing(member)))
                    : Expression.IfThen(Given(seen, i), Expression.Assign(target, Value(slots, nulls, member, i))));
            }
        }

        body.Add(record);
        return Expression.Lambda<Func<RecordSlots, T>>(Expression.Block(new[] { seen, nulls, record }, body), slots).Compile();
    }

    private static BinaryExpression Given(ParameterExpression mask, int index) =>
        Expression.NotEqual(Expression.And(mask, Expression.Constant(1UL << index)), Expression.Constant(0UL));

    /// <summary>The member's value from its slot, as the member's type.</summary>
    private static Expression Value(ParameterExpression slots, ParameterExpression nulls, RecordJsonMember member, int index)
    {
        string array = member.Kind switch
        {
            RecordMemberKind.Single or RecordMemberKind.Double => nameof(RecordSlots.Doubles),
            RecordMemberKind.Decimal => nameof(RecordSlots.Decimals),
            RecordMemberKind.DateTime => nameof(RecordSlots.DateTimes),
            RecordMemberKind.DateTimeOffset => nameof(RecordSlots.DateTimeOffsets),
            RecordMemberKind.Guid => nameof(RecordSlots.Guids),
            RecordMemberKind.String or RecordMemberKind.Record => nameof(RecordSlots.Objects),
            _ => nameof(RecordSlots.Longs),
        };
        Expression value = Expression.ArrayIndex(Expression.Property(slots, array), Expression.Constant(member.Slot));
        if (member.Kind == RecordMemberKind.Boolean)
        {
            value = Expression.NotEqual(value, Expression.Constant(0L));
        }
        else if (value.Type != member.ValueType)
        {
            value = Expression.Convert(value, member.ValueType);
        }

        if (member.Type != member.ValueType)
        {
            // Nullable<T>: null when the JSON said null.
            value = Expression.Condition(Given(nulls, index), Expression.Default(member.Type), Expression.Convert(value, member.Type));
        }

        return value;
    }

    /// <summary>A constructor parameter the JSON did not give: its default value, as System.Text.Json passes it.</summary>
    private static Expression Missing(RecordJsonMember member) => member.ParameterDefault is { } value
        ? Expression.Convert(Expression.Constant(value), member.Type)
        : Expression.Default(member.Type);
}
