using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>Evaluates a <see cref="System.TimeSpan"/> expression made of constants (<c>TimeSpan.FromSeconds(0)</c>, <c>new TimeSpan(0, 5, 0)</c>, <c>-TimeSpan.Zero</c>) to ticks.</summary>
internal static class TimeSpanConstant
{
    private const long TicksPerMicrosecond = 10;
    private const long TicksPerMillisecond = 10_000;
    private const long TicksPerSecond = 10_000_000;
    private const long TicksPerMinute = 60 * TicksPerSecond;
    private const long TicksPerHour = 60 * TicksPerMinute;
    private const long TicksPerDay = 24 * TicksPerHour;

    /// <summary>Evaluates <paramref name="operation"/> to ticks, or returns null when it is not a constant TimeSpan.</summary>
    /// <remarks>With <paramref name="flow"/>, a local with one value or a static readonly field is followed to that value first.</remarks>
    public static long? TryEvaluate(IOperation? operation, ValueFlow? flow)
    {
        if (operation is not null && flow is not null && ValueFlow.StripAll(operation) is ILocalReferenceOperation or IFieldReferenceOperation { Field.IsStatic: true, Field.IsReadOnly: true }
            && flow.SingleValue(operation) is { } value)
        {
            operation = value.Operation;
        }

        return TryEvaluate(operation);
    }

    /// <summary>Evaluates <paramref name="operation"/> to ticks, or returns null when it is not a constant TimeSpan.</summary>
    public static long? TryEvaluate(IOperation? operation)
    {
        if (operation is null)
        {
            return null;
        }

        operation = QueryOperations.Strip(operation);
        if (!IsTimeSpan(operation.Type))
        {
            return null;
        }

        switch (operation)
        {
            case IDefaultValueOperation:
                return 0;
            case IFieldReferenceOperation { Instance: null } field:
                return field.Field.Name switch
                {
                    "Zero" => 0,
                    "MinValue" => long.MinValue,
                    "MaxValue" => long.MaxValue,
                    _ => null,
                };
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } minus:
                return TryEvaluate(minus.Operand) is { } value && value != long.MinValue ? -value : null;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Plus } plus:
                return TryEvaluate(plus.Operand);
            case IParenthesizedOperation parenthesized:
                return TryEvaluate(parenthesized.Operand);
            case IInvocationOperation { Instance: null } call when IsTimeSpan(call.TargetMethod.ContainingType) && call.TargetMethod.Name.StartsWith("From", StringComparison.Ordinal):
                return Sum(call.Arguments, UnitOfFactory(call.TargetMethod.Name));
            case IObjectCreationOperation creation:
                return Sum(creation.Arguments, null);
            default:
                return null;
        }
    }

    private static bool IsTimeSpan(ITypeSymbol? type) =>
        type is { Name: "TimeSpan", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };

    private static long? UnitOfFactory(string method) => method switch
    {
        "FromDays" => TicksPerDay,
        "FromHours" => TicksPerHour,
        "FromMinutes" => TicksPerMinute,
        "FromSeconds" => TicksPerSecond,
        "FromMilliseconds" => TicksPerMillisecond,
        "FromMicroseconds" => TicksPerMicrosecond,
        "FromTicks" => 1,
        _ => null,
    };

    private static long? UnitOfParameter(string name) => name switch
    {
        "days" => TicksPerDay,
        "hours" => TicksPerHour,
        "minutes" => TicksPerMinute,
        "seconds" => TicksPerSecond,
        "milliseconds" => TicksPerMillisecond,
        "microseconds" => TicksPerMicrosecond,
        "ticks" => 1,
        _ => null,
    };

    /// <summary>Adds up constant arguments, each in the unit its parameter name says (<c>value</c>, the first one, in <paramref name="firstUnit"/>).</summary>
    private static long? Sum(ImmutableArray<IArgumentOperation> arguments, long? firstUnit)
    {
        decimal total = 0;
        foreach (var argument in arguments)
        {
            if (argument.Parameter is null || argument.Value.ConstantValue is not { HasValue: true, Value: { } value }
                || value is double.NaN or double.PositiveInfinity or double.NegativeInfinity)
            {
                return null;
            }

            var unit = UnitOfParameter(argument.Parameter.Name) ?? (argument.Parameter.Ordinal == 0 ? firstUnit : null);
            if (unit is null)
            {
                return null;
            }

            try
            {
                total += Convert.ToDecimal(value, CultureInfo.InvariantCulture) * unit.Value;
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        return total > long.MaxValue ? long.MaxValue : total < long.MinValue ? long.MinValue : (long)total;
    }
}
