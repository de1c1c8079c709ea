using System.Collections.Generic;
using System.Linq;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>
/// LSQ0009: operators that translate, put together in a shape the engine refuses at <c>Subscribe</c>: <c>Select</c>/<c>Where</c> with an
/// index, a second <c>from</c> over a stream, <c>Merge</c> with a plain observable, <c>WithLifetime</c> after another operator, a
/// <c>SessionWindow</c> with no aggregate after it, and a filter on window groups with no <c>Select</c> after it.
/// </summary>
/// <remarks>
/// Receivers are followed by meaning (locals, helpers that return a query). What comes after a session window or a group filter is followed
/// through locals in the same method; a window passed to a helper is not followed, and is not reported.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RefusedShapeAnalyzer : DiagnosticAnalyzer
{
    private const int MaxUses = 4;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.RefusedShape);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is not null)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var problem = known.IsQbservableMethod(method) ? RxShape(invocation, known)
            : known.IsQStreamMethod(method) ? StreamShape(invocation, known)
            : null;
        if (problem is { } found)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.RefusedShape, QueryOperations.OperatorLocation(invocation), method.Name, found.Reason, found.Fix));
        }
    }

    private static (string Reason, string Fix)? RxShape(IInvocationOperation invocation, KnownSymbols known)
    {
        string name = invocation.TargetMethod.Name;
        if (name is not ("Select" or "Where" or "SelectMany" or "Merge" or "Union")
            || !QueryOperations.IsStreamQuery(QueryOperations.Receiver(invocation), known))
        {
            return null;
        }

        var lambda = QueryOperations.Lambda(QueryOperations.Argument(invocation, 1));
        if (name is "Select" or "Where" && lambda?.Symbol.Parameters.Length == 2)
        {
            return ("'" + name + "' with an index has no meaning on a stream, whose events have times, not positions",
                "Use the event's time or a key instead of its position");
        }

        if (name == "SelectMany" && lambda is not null && !IsEnumerable(lambda.Symbol.ReturnType))
        {
            return ("a second 'from' over a stream or an observable is not a SelectMany the engine can run: the selector must return an IEnumerable<T> computed from one event",
                "Join the streams with 'join ... on ... equals ...', where events match while their lifetimes overlap");
        }

        if (name is "Merge" or "Union")
        {
            foreach (var argument in invocation.Arguments)
            {
                if (argument.Parameter?.Ordinal > 0 && argument.Value.Type is not null && !IsScheduler(argument.Value.Type)
                    && !QueryOperations.IsStreamQuery(argument.Value, known))
                {
                    return ("'" + argument.Value.Syntax + "' is a plain observable, with no event times and no watermark",
                        "Make it a stream first, 'QStream.From(observable, e => e.Time)', and merge the two streams");
                }
            }
        }

        return null;
    }

    private static (string Reason, string Fix)? StreamShape(IInvocationOperation invocation, KnownSymbols known)
    {
        switch (invocation.TargetMethod.Name)
        {
            case "WithLifetime":
                foreach (var value in known.Flow.Values(QueryOperations.Receiver(invocation)))
                {
                    if (value.Operation is IInvocationOperation source && QueryOperations.IsQueryOperator(source, known) && !IsIngress(source, known))
                    {
                        return ("lifetimes are read once, at ingress, so 'WithLifetime' must come directly after QStream.From, not after '" + source.TargetMethod.Name + "'",
                            "Move WithLifetime next to QStream.From (filters and projections commute with it), or use ExtendLifetime or ShiftTime later in the query");
                    }
                }

                return null;
            case "SessionWindow" when Uses(invocation).Exists(use => !AggregatesWindow(use, known, 0)):
                return ("a session has no lifetime until it closes, so 'SessionWindow' must be followed by an aggregate",
                    "Aggregate it: 'stream.SessionWindow(gap).GroupBy(key).Select(g => ...)' or '.Select(w => ...)'");
            case "Where" when IsGroupStream(invocation.Type, known) && Uses(invocation).Exists(use => !SelectsGroups(use, known, 0)):
                return ("a filter on window groups must be followed by 'Select(g => ...)', which says what each group gives",
                    "Add '.Select(g => ...)' after the filter, for example '.Select(g => new { g.Key, Count = g.Count() })'");
            default:
                return null;
        }
    }

    /// <summary>QStream.From, possibly under WithOptions, which the translator looks through.</summary>
    private static bool IsIngress(IInvocationOperation call, KnownSymbols known) =>
        call.TargetMethod.Name == "From" ? known.IsQStreamMethod(call.TargetMethod)
        : call.TargetMethod.Name == "WithOptions" && known.Flow.Values(QueryOperations.Receiver(call)).TrueForAll(v => v.Operation is not IInvocationOperation inner || IsIngress(inner, known));

    /// <summary>A use of a session window that aggregates it: GroupBy, a window Select, or a Where that keeps it windowed and is itself aggregated.</summary>
    private static bool AggregatesWindow(IInvocationOperation? use, KnownSymbols known, int depth) =>
        use is not null && known.IsQStreamMethod(use.TargetMethod) && use.TargetMethod.Name switch
        {
            "GroupBy" => true,
            "Select" => QueryOperations.Lambda(QueryOperations.Argument(use, 1)) is { } selector && selector.Symbol.Parameters.Length == 1 && known.IsWindow(selector.Symbol.Parameters[0].Type),
            "Where" => depth < MaxUses && Uses(use).TrueForAll(next => AggregatesWindow(next, known, depth + 1)),
            _ => false,
        };

    private static bool SelectsGroups(IInvocationOperation? use, KnownSymbols known, int depth) =>
        use is not null && known.IsQStreamMethod(use.TargetMethod) && use.TargetMethod.Name switch
        {
            "Select" => true,
            "Where" => depth < MaxUses && Uses(use).TrueForAll(next => SelectsGroups(next, known, depth + 1)),
            _ => false,
        };

    /// <summary>
    /// Gets the calls <paramref name="produced"/> is the source of, following a local it is stored in; null stands for a use that is
    /// not a call on it (returned, passed on, subscribed through another type).
    /// </summary>
    private static List<IInvocationOperation?> Uses(IOperation produced)
    {
        var uses = new List<IInvocationOperation?>();
        Collect(produced, uses, 0);
        return uses;

        static void Collect(IOperation produced, List<IInvocationOperation?> uses, int depth)
        {
            var parent = produced.Parent;
            while (parent is IConversionOperation or IParenthesizedOperation)
            {
                parent = parent.Parent;
            }

            switch (parent)
            {
                case IArgumentOperation { Parameter.Ordinal: 0, Parent: IInvocationOperation call } when call.TargetMethod.IsExtensionMethod:
                    uses.Add(call);
                    return;
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } when depth < MaxUses:
                    foreach (var use in ValueFlow.Root(produced).Descendants())
                    {
                        if (use is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, declarator.Symbol))
                        {
                            Collect(use, uses, depth + 1);
                        }
                    }

                    return;
                default:
                    uses.Add(null);
                    return;
            }
        }
    }

    private static bool IsGroupStream(ITypeSymbol? type, KnownSymbols known) =>
        type is INamedTypeSymbol { TypeArguments.Length: 1 } named && known.IsStream(type) && known.IsWindow(named.TypeArguments[0])
        && named.TypeArguments[0] is INamedTypeSymbol { TypeArguments.Length: 2 };

    private static bool IsScheduler(ITypeSymbol type) => type.Name == "IScheduler";

    private static bool IsEnumerable(ITypeSymbol type) =>
        type.SpecialType == SpecialType.System_String || type is IArrayTypeSymbol
        || (type.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)
        || type.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
}
