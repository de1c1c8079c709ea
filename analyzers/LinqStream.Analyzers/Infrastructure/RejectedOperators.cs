using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Query.Translation;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>
/// Which calls on a LinqStream query the engine refuses by name (the catalogue): an Rx <c>Qbservable</c> operator the translator rejects,
/// or an Rx terminal operator (<c>Wait</c>, <c>First</c>, <c>ToTask</c>, <c>ToEnumerable</c>...) that subscribes to the query itself, which
/// <c>Subscribe</c> refuses. Also finds them inside the compilation's own helpers, followed from a call that passes them a query.
/// </summary>
internal static class RejectedOperators
{
    /// <summary>The family of an Rx operator the catalogue does not list (the translator refuses it too).</summary>
    public static readonly CatalogueEntry Unknown = new(
        "unknown",
        "it has no streaming translation",
        "Write it with LinqStream operators (Where, Select, windows, lifetimes and joins), or apply it to the results after Subscribe");

    // The Observable (and TaskObservableExtensions) methods whose observer Subscribe refuses (see TerminalObserverGuard in the runtime).
    private static readonly ImmutableHashSet<string> s_terminal = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "Wait", "First", "FirstOrDefault", "Last", "LastOrDefault", "Single", "SingleOrDefault", "ToTask", "ForEachAsync", "ForEach",
        "ToEnumerable", "Next", "Latest", "MostRecent", "GetAwaiter", "RunAsync");

    private const int MaxHelperDepth = 4;

    /// <summary>Gets the catalogue entry when <paramref name="invocation"/> is a call the engine refuses on a LinqStream query, or null.</summary>
    public static CatalogueEntry? Find(IInvocationOperation invocation, KnownSymbols known, FlowContext? context = null)
    {
        var method = invocation.TargetMethod;
        if (known.IsQbservableMethod(method))
        {
            var entry = TranslationCatalogue.FindRejected(method.Name);
            if (entry is null && Array.IndexOf(TranslationCatalogue.Translated, method.Name) >= 0)
            {
                return null;
            }

            return QueryOperations.IsStreamQuery(QueryOperations.Receiver(invocation), known, context) ? entry ?? Unknown : null;
        }

        if ((KnownSymbols.Is(method.ContainingType, known.Observable) || KnownSymbols.Is(method.ContainingType, known.TaskObservableExtensions))
            && s_terminal.Contains(method.Name) && QueryOperations.IsStreamQuery(QueryOperations.Receiver(invocation), known, context))
        {
            return TranslationCatalogue.FindRejected(method.Name);
        }

        return null;
    }

    /// <summary>
    /// Finds the refused calls inside a helper of this compilation that <paramref name="call"/> passes a LinqStream query to (the
    /// helper's parameter is followed back to the call's argument), and inside the helpers it calls in turn.
    /// </summary>
    public static List<(string Operator, CatalogueEntry Entry)> InHelper(IInvocationOperation call, KnownSymbols known)
    {
        var found = new List<(string, CatalogueEntry)>();
        Collect(call, null, known, found, 0);
        return found;
    }

    private static void Collect(IInvocationOperation call, FlowContext? parent, KnownSymbols known, List<(string, CatalogueEntry)> found, int depth)
    {
        var method = call.TargetMethod;
        if (depth >= MaxHelperDepth || known.IsQStreamMethod(method) || known.IsQbservableMethod(method) || !ValueFlow.IsOwnMethod(method)
            || !PassesQuery(call, known, parent) || known.Flow.Body(method) is not { } body)
        {
            return;
        }

        var context = new FlowContext(call, parent);
        foreach (var operation in body.Descendants())
        {
            if (operation is not IInvocationOperation inner || !ValueFlow.IsDirectlyIn(inner, body))
            {
                continue;
            }

            if (Find(inner, known, context) is { } entry)
            {
                found.Add((inner.TargetMethod.Name, entry));
            }
            else
            {
                Collect(inner, context, known, found, depth + 1);
            }
        }
    }

    private static bool PassesQuery(IInvocationOperation call, KnownSymbols known, FlowContext? parent)
    {
        foreach (var argument in call.Arguments)
        {
            if (QueryOperations.IsStreamQuery(argument.Value, known, parent))
            {
                return true;
            }
        }

        return false;
    }
}
