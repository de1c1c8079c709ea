using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LinqStream.Analyzers;

/// <summary>
/// Fixes LSQ0008 for the Rx operators that only say on which thread results arrive (<c>ObserveOn</c>, <c>SubscribeOn</c>,
/// <c>Synchronize</c>): the engine runs the query on its own thread and calls the observer
/// one result at a time, so removing them keeps every result and its order.
/// </summary>
/// <remarks>
/// The other operators of the rule change what the query computes (Take, Throttle, Zip...) or how it is consumed (Wait, ToTask...); their
/// event-time equivalent depends on what the user meant, so no fix is offered and the message says what to write.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UntranslatableOperatorFixer))]
[Shared]
public sealed class UntranslatableOperatorFixer : CodeFixProvider
{
    /// <summary>The equivalence key of the fix that removes the operator.</summary>
    public const string RemoveKey = "LSQ0008.Remove";

    private static readonly ImmutableHashSet<string> s_removable = ImmutableHashSet.Create("ObserveOn", "SubscribeOn", "Synchronize");

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.UntranslatableOperator.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var call = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<InvocationExpressionSyntax>()
                .FirstOrDefault(i => i.Expression is MemberAccessExpressionSyntax member && member.Name.SpanStart == diagnostic.Location.SourceSpan.Start);
            if (call?.Expression is MemberAccessExpressionSyntax access && s_removable.Contains(access.Name.Identifier.ValueText))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Remove '{access.Name.Identifier.ValueText}' (the engine delivers results on its own thread, one at a time)",
                        _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(call, access.Expression.WithTriviaFrom(call)))),
                        RemoveKey),
                    diagnostic);
            }
        }
    }
}
