using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LinqStream.Analyzers;

/// <summary>
/// Fixes LSQ0001 by windowing the stream: <c>s.GroupBy(k)</c> becomes <c>s.TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(k)</c> (LinqStream's
/// GroupBy), and <c>s.Count(...)</c> becomes <c>s.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w =&gt; w.Count(...))</c>.
/// </summary>
/// <remarks>One minute is a placeholder the user is expected to change; the fix's title says so.</remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnwindowedAggregateFixer))]
[Shared]
public sealed class UnwindowedAggregateFixer : CodeFixProvider
{
    /// <summary>The equivalence key of the fix that inserts a window before GroupBy.</summary>
    public const string InsertWindowKey = "LSQ0001.InsertWindow";

    /// <summary>The equivalence key of the fix that moves the aggregate into a window's Select.</summary>
    public const string AggregateInWindowKey = "LSQ0001.AggregateInWindow";

    private const string WindowSize = "TimeSpan.FromMinutes(1)";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnwindowedAggregate.Id);

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
            diagnostic.Properties.TryGetValue(UnwindowedAggregateAnalyzer.FixProperty, out var fix);
            if (fix == UnwindowedAggregateAnalyzer.InsertWindowFix && diagnostic.AdditionalLocations.Count == 1
                && root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is ExpressionSyntax receiver)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Window the stream before GroupBy (TumblingWindow of 1 minute: adjust the size)",
                        ct => InsertWindowAsync(context.Document, receiver, ct),
                        InsertWindowKey),
                    diagnostic);
            }
            else if (fix == UnwindowedAggregateAnalyzer.AggregateInWindowFix
                && diagnostic.Properties.TryGetValue(UnwindowedAggregateAnalyzer.EnumerableNameProperty, out var name) && name is not null
                && FindInvocation(root, diagnostic) is { } invocation)
            {
                bool windowed = diagnostic.Properties.TryGetValue(UnwindowedAggregateAnalyzer.WindowedProperty, out var w) && w == "true";
                context.RegisterCodeFix(
                    CodeAction.Create(
                        windowed ? $"Compute '{name}' per window" : $"Compute '{name}' per window (TumblingWindow of 1 minute: adjust the size)",
                        ct => AggregateInWindowAsync(context.Document, invocation, name, windowed, ct),
                        AggregateInWindowKey),
                    diagnostic);
            }
        }
    }

    private static InvocationExpressionSyntax? FindInvocation(SyntaxNode root, Diagnostic diagnostic)
    {
        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        return node.AncestorsAndSelf().OfType<InvocationExpressionSyntax>()
            .FirstOrDefault(i => i.Expression is MemberAccessExpressionSyntax member && member.Name.SpanStart == diagnostic.Location.SourceSpan.Start);
    }

    private static async Task<Document> InsertWindowAsync(Document document, ExpressionSyntax receiver, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var windowed = Window(receiver, model!);
        return document.WithSyntaxRoot(root!.ReplaceNode(receiver, windowed));
    }

    private static async Task<Document> AggregateInWindowAsync(Document document, InvocationExpressionSyntax invocation, string name, bool windowed, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var member = (MemberAccessExpressionSyntax)invocation.Expression;
        string parameter = FreeName(model!, invocation);

        // w => w.Name(args): the arguments keep their text; Rx's expression lambdas become LINQ-to-objects lambdas.
        var aggregate = SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(parameter), SyntaxFactory.IdentifierName(name)),
            invocation.ArgumentList.WithoutTrivia());
        var lambda = SyntaxFactory.SimpleLambdaExpression(SyntaxFactory.Parameter(SyntaxFactory.Identifier(parameter)), aggregate);

        var source = windowed ? member.Expression : Window(member.Expression, model!);
        var select = SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, source, member.OperatorToken, SyntaxFactory.IdentifierName("Select")),
            SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(lambda))))
            .WithTriviaFrom(invocation);
        return document.WithSyntaxRoot(root!.ReplaceNode(invocation, select));
    }

    /// <summary>Builds <c>source.TumblingWindow(TimeSpan.FromMinutes(1))</c>, parenthesising the source when it is not a primary expression.</summary>
    private static InvocationExpressionSyntax Window(ExpressionSyntax source, SemanticModel model)
    {
        // 'TimeSpan' when it means System.TimeSpan here (using System; or implicit usings), the full name otherwise.
        bool inScope = model.LookupNamespacesAndTypes(source.SpanStart, name: "TimeSpan")
            .Any(t => t is INamedTypeSymbol { SpecialType: SpecialType.None, ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } });
        var size = SyntaxFactory.ParseExpression(inScope ? WindowSize : "global::System." + WindowSize);
        var trailing = source.GetTrailingTrivia();
        source = source.WithoutTrailingTrivia();
        var target = source is IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or ElementAccessExpressionSyntax
            or ParenthesizedExpressionSyntax or ThisExpressionSyntax or GenericNameSyntax
            ? source
            : SyntaxFactory.ParenthesizedExpression(source);
        return SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, target, SyntaxFactory.IdentifierName("TumblingWindow")),
            SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(size))))
            .WithTrailingTrivia(trailing);
    }

    /// <summary>Picks a lambda parameter name that clashes with nothing in scope and nothing in the moved arguments.</summary>
    private static string FreeName(SemanticModel model, InvocationExpressionSyntax invocation)
    {
        var taken = new HashSet<string>(invocation.ArgumentList.DescendantTokens().Where(t => t.IsKind(SyntaxKind.IdentifierToken)).Select(t => t.ValueText));
        foreach (var candidate in new[] { "w", "window", "w1", "w2", "w3" })
        {
            if (!taken.Contains(candidate) && model.LookupSymbols(invocation.SpanStart, name: candidate).IsEmpty)
            {
                return candidate;
            }
        }

        return "window_";
    }
}
