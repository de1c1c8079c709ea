using System.Diagnostics;
using System.Reactive.Linq;
using LinqStream.Query.Translation;

namespace LinqStream.Linq.Provider;

/// <summary>
/// Refuses the Rx terminal and blocking operators (<c>Wait</c>, <c>await query</c>, <c>ToTask</c>, the blocking <c>First</c>/<c>Last</c>/<c>Single</c>,
/// <c>ForEachAsync</c>, <c>ToEnumerable</c>, ...) at <c>Subscribe</c>, as the translator refuses <c>Qbservable</c> operators.
/// </summary>
/// <remarks>
/// Those operators are <c>Observable</c> extension methods on <c>IObservable&lt;T&gt;</c>: they never reach the query's expression, they subscribe
/// an observer of their own. The observer's Rx type says which operator it is (System.Reactive 7). <c>ForEachAsync</c> subscribes a plain
/// <c>AnonymousObserver</c>, like <c>Subscribe(onNext)</c>, so only then is the caller's stack read (once per subscription, never per event).
/// </remarks>
internal static class TerminalObserverGuard
{
    private static readonly System.Reflection.Assembly s_rx = typeof(Observable).Assembly;

    /// <summary>Throws <see cref="QueryTranslationException"/> when <paramref name="observer"/> belongs to an Rx terminal or blocking operator.</summary>
    public static void Check(object observer)
    {
        var type = observer.GetType();
        if (type.Assembly != s_rx)
        {
            return;
        }

        string? op = OperatorOf(type);
        if (op is null && type.Name.StartsWith("AnonymousObserver", StringComparison.Ordinal) && CalledFrom("ForEachAsync"))
        {
            op = "ForEachAsync";
        }

        if (op is null)
        {
            return;
        }

        // Wait and Last share an observer, as First and FirstOrDefault do: name the one the user called, the outermost Rx frame.
        op = UserCalled() ?? op;
        var entry = TranslationCatalogue.FindRejected(op)!;
        throw Internal.Error.Translation(op, Internal.Strings.TerminalOperator(op, entry.Reason, entry.Fix));
    }

    private static string? UserCalled()
    {
        string? name = null;
        foreach (var frame in new StackTrace(2, fNeedFileInfo: false).GetFrames())
        {
            if (frame.GetMethod() is { } m && m.DeclaringType?.Assembly == s_rx && TranslationCatalogue.FindRejected(m.Name) is { Family: "terminal" or "aggregate" })
            {
                name = m.Name;
            }
        }

        return name;
    }

    private static string? OperatorOf(Type type)
    {
        // A nested observer (ForEach`1+Observer, Next`1+_) is named after its operator, the type that declares it.
        var named = type.IsNested && type.DeclaringType is { } outer && outer.Namespace == "System.Reactive.Linq.ObservableImpl" ? outer : type;
        string name = named.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        name = tick < 0 ? name : name[..tick];
        return (named.Namespace, name) switch
        {
            ("System.Reactive.Linq.ObservableImpl", "FirstBlocking") => "First",
            ("System.Reactive.Linq.ObservableImpl", "LastBlocking") => "Wait", // Wait and Last both wait for the last element
            ("System.Reactive.Linq.ObservableImpl", "SingleBlocking") => "Single",
            ("System.Reactive.Linq.ObservableImpl", "GetEnumerator") => "ToEnumerable",
            ("System.Reactive.Linq.ObservableImpl", "ForEach") => "ForEach",
            ("System.Reactive.Linq.ObservableImpl", "Next" or "Latest" or "MostRecent") => name,
            ("System.Reactive.Threading.Tasks", "ToTaskObserver") => "ToTask", // nested in TaskObservableExtensions
            ("System.Reactive.Subjects", "AsyncSubject") => "GetAwaiter", // 'await query' and RunAsync subscribe an AsyncSubject
            _ => null,
        };
    }

    private static bool CalledFrom(string method)
    {
        var frames = new StackTrace(2, fNeedFileInfo: false).GetFrames();
        foreach (var frame in frames)
        {
            if (frame.GetMethod() is { } m && m.DeclaringType?.Assembly == s_rx && m.Name.Contains(method, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
