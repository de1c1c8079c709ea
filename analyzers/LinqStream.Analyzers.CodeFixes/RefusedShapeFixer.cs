using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LinqStream.Analyzers;

/// <summary>
/// Fixes LSQ0009's <c>WithLifetime</c> after a filter by moving it before the filters: <c>s.Where(p).WithLifetime(a, b)</c> becomes
/// <c>s.WithLifetime(a, b).Where(p)</c>, which keeps the same events with the same lifetimes (a filter reads payloads, not lifetimes).
/// </summary>
/// <remarks>
/// The other refused shapes have no fix that keeps their meaning (an index, a second from, a merge with an observable that has no
/// event time, a session or group filter whose aggregate only the user knows), so none is offered.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RefusedShapeFixer))]
[Shared]
public sealed class RefusedShapeFixer : CodeFixProvider
{
    /// <summary>The equivalence key of the fix that moves WithLifetime before the filters.</summary>
    public const string MoveWithLifetimeKey = "LSQ0009.MoveWithLifetime";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.RefusedShape.Id);

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
            var withLifetime = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<InvocationExpressionSyntax>()
                .FirstOrDefault(i => i.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "WithLifetime" } member && member.Name.SpanStart == diagnostic.Location.SourceSpan.Start);
            if (withLifetime?.Expression is not MemberAccessExpressionSyntax { Expression: InvocationExpressionSyntax } member || Source(member.Expression) is not { } source)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create("Move WithLifetime before the filter", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(withLifetime, Move(withLifetime, member, source)))), MoveWithLifetimeKey),
                diagnostic);
        }
    }

    /// <summary>Gets what the chain of <c>.Where(...)</c> calls ending at <paramref name="chain"/> filters, or null when it holds anything else.</summary>
    private static ExpressionSyntax? Source(ExpressionSyntax chain)
    {
        var current = chain;
        while (current is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Where" } where, ArgumentList.Arguments.Count: 1 })
        {
            current = where.Expression;
        }

        return current == chain ? null : current;
    }

    private static ExpressionSyntax Move(InvocationExpressionSyntax withLifetime, MemberAccessExpressionSyntax member, ExpressionSyntax source)
    {
        // source.Where(p)...WithLifetime(a, b)  =>  source.WithLifetime(a, b).Where(p)...
        var lifetime = SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, source.WithoutTrailingTrivia(), SyntaxFactory.IdentifierName("WithLifetime")),
            withLifetime.ArgumentList);
        var filters = member.Expression.ReplaceNode(source, lifetime.WithTrailingTrivia(source.GetTrailingTrivia()));
        return filters.WithTriviaFrom(withLifetime);
    }
}
