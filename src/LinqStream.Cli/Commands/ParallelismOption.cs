using System.CommandLine;
using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Cli.Output;

namespace LinqStream.Cli.Commands;

/// <summary><c>--parallelism N</c> for <c>run</c> and <c>nexmark</c>: how many tasks a keyed window aggregate runs on (<see cref="QueryOptions.Parallelism"/>).</summary>
internal static class ParallelismOption
{
    public static Option<int> Create()
    {
        var option = new Option<int>("--parallelism")
        {
            Description = "Run each keyed window aggregate on N tasks (threads), with the same results in the same order as on 1; "
                + "'explain' shows the stages. The default is 1.",
            DefaultValueFactory = _ => 1,
        };
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 1024)
            {
                result.AddError($"--parallelism must be between 1 and 1024; '{value}' is not.");
            }
        });
        return option;
    }

    /// <summary>The query with <see cref="QueryOptions.Parallelism"/> set in every <see cref="QueryOptions"/> it carries (or in new ones).</summary>
    public static object Apply(object query, int parallelism)
    {
        if (parallelism == 1)
        {
            return query;
        }

        var type = QueryRunner.ResultType(query) ?? throw new ArgumentException("Not an IQStream<T>.", nameof(query));
        var method = typeof(ParallelismOption).GetMethod(nameof(ApplyTyped), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        return method.Invoke(null, [query, parallelism])!;
    }

    private static IQStream<T> ApplyTyped<T>(IQStream<T> query, int parallelism)
    {
        var rewriter = new Rewriter(parallelism);
        var expression = rewriter.Visit(query.Expression);
        return rewriter.Found
            ? (IQStream<T>)query.Provider.CreateQuery<T>(expression)
            : query.WithOptions(new QueryOptions { Parallelism = parallelism });
    }

    private sealed class Rewriter(int parallelism) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (node.Value is QueryOptions options)
            {
                Found = true;
                return Expression.Constant(options with { Parallelism = parallelism }, typeof(QueryOptions));
            }

            return node;
        }
    }
}
