using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LinqStream.Analyzers;

/// <summary>
/// Fixes LSQ0004 where the intent can be read: a negative length becomes its magnitude (<c>-TimeSpan.FromSeconds(5)</c> →
/// <c>TimeSpan.FromSeconds(5)</c>, any other expression <c>x</c> → <c>x.Duration()</c>), and a hop larger than the size trades places with it.
/// </summary>
/// <remarks>A zero length has no such reading, so no fix is offered for it.</remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WindowArgumentFixer))]
[Shared]
public sealed class WindowArgumentFixer : CodeFixProvider
{
    /// <summary>The equivalence key of the fix that drops the sign of a negative length.</summary>
    public const string MagnitudeKey = "LSQ0004.Magnitude";

    /// <summary>The equivalence key of the fix that swaps the hop and the size.</summary>
    public const string SwapKey = "LSQ0004.Swap";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.InvalidWindowArgument.Id);

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
            diagnostic.Properties.TryGetValue(WindowArgumentAnalyzer.FixProperty, out var fix);
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node)
            {
                continue;
            }

            var argument = node as ExpressionSyntax ?? (node as ArgumentSyntax)?.Expression;
            if (argument is null)
            {
                continue;
            }

            if (fix == WindowArgumentAnalyzer.MagnitudeFix)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Use the length without its sign", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(argument, Magnitude(argument)))), MagnitudeKey),
                    diagnostic);
            }
            else if (fix == WindowArgumentAnalyzer.SwapFix && diagnostic.AdditionalLocations.Count == 1
                && root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is { } sizeNode
                && (sizeNode as ExpressionSyntax ?? (sizeNode as ArgumentSyntax)?.Expression) is { } size)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Swap the size and the hop", _ => Task.FromResult(context.Document.WithSyntaxRoot(Swap(root, size, argument))), SwapKey),
                    diagnostic);
            }
        }
    }

    private static ExpressionSyntax Magnitude(ExpressionSyntax argument)
    {
        var fixedArgument = argument switch
        {
            PrefixUnaryExpressionSyntax minus when minus.IsKind(SyntaxKind.UnaryMinusExpression) => minus.Operand,
            // TimeSpan.FromSeconds(-30): the sign of the one literal argument.
            InvocationExpressionSyntax { ArgumentList.Arguments.Count: 1 } call when call.ArgumentList.Arguments[0].Expression is PrefixUnaryExpressionSyntax inner
                && inner.IsKind(SyntaxKind.UnaryMinusExpression) => call.ReplaceNode(inner, inner.Operand),
            _ => SyntaxFactory.InvocationExpression(
                SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, Primary(argument.WithoutTrivia()), SyntaxFactory.IdentifierName("Duration"))),
        };
        return fixedArgument.WithTriviaFrom(argument);
    }

    private static ExpressionSyntax Primary(ExpressionSyntax expression) =>
        expression is IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or ParenthesizedExpressionSyntax or ObjectCreationExpressionSyntax
            ? expression
            : SyntaxFactory.ParenthesizedExpression(expression);

    private static SyntaxNode Swap(SyntaxNode root, ExpressionSyntax size, ExpressionSyntax hop) =>
        root.ReplaceNodes([size, hop], (original, _) => original == size ? hop.WithTriviaFrom(size) : size.WithTriviaFrom(hop));
}
