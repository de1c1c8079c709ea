using Microsoft.CodeAnalysis;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>The LinqStream, Rx and BCL types the rules compare against, resolved once per compilation.</summary>
internal sealed class KnownSymbols
{
    private KnownSymbols(Compilation compilation, INamedTypeSymbol qstream, INamedTypeSymbol stream)
    {
        Compilation = compilation;
        QStream = qstream;
        Stream = stream;
        WindowedStream = Get(compilation, "LinqStream.IQWindowedStream`1");
        Window = Get(compilation, "LinqStream.IWindow`1");
        AggregateExtensions = Get(compilation, "LinqStream.AggregateExtensions");
        Qbservable = Get(compilation, "System.Reactive.Linq.Qbservable");
        QbservableOfT = Get(compilation, "System.Reactive.Linq.IQbservable`1");
        Enumerable = Get(compilation, "System.Linq.Enumerable");
        Observable = Get(compilation, "System.Reactive.Linq.Observable");
        TaskObservableExtensions = Get(compilation, "System.Reactive.Threading.Tasks.TaskObservableExtensions");
        ObservableOfT = Get(compilation, "System.IObservable`1");
        Flow = new ValueFlow(compilation);
    }

    public INamedTypeSymbol? ObservableOfT { get; }

    /// <summary>
    /// Gets a value indicating whether a value of static type <paramref name="type"/> can hold a LinqStream query (an
    /// <c>IObservable&lt;T&gt;</c> or a type implementing it); data flow is only followed for those, so the rules stay cheap.
    /// </summary>
    public bool CanHoldQuery(ITypeSymbol? type) => type is null || type is ITypeParameterSymbol || (ObservableOfT is not null && Implements(type, ObservableOfT));

    /// <summary>Gets the data flow of this compilation (values through locals, helpers and fields), cached for the compilation.</summary>
    public ValueFlow Flow { get; }

    /// <summary>Gets Rx's <c>Observable</c>, whose terminal operators (Wait, First, ToEnumerable...) subscribe to a query directly.</summary>
    public INamedTypeSymbol? Observable { get; }

    public INamedTypeSymbol? TaskObservableExtensions { get; }

    public Compilation Compilation { get; }

    /// <summary>Gets <c>LinqStream.QStream</c>, the static class of LinqStream's operators.</summary>
    public INamedTypeSymbol QStream { get; }

    /// <summary>Gets <c>LinqStream.IQStream&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol Stream { get; }

    public INamedTypeSymbol? WindowedStream { get; }

    public INamedTypeSymbol? Window { get; }

    public INamedTypeSymbol? AggregateExtensions { get; }

    public INamedTypeSymbol? Qbservable { get; }

    public INamedTypeSymbol? QbservableOfT { get; }

    public INamedTypeSymbol? Enumerable { get; }

    /// <summary>Resolves the symbols, or returns null when the compilation does not reference LinqStream (then no rule has work to do).</summary>
    public static KnownSymbols? TryCreate(Compilation compilation)
    {
        var qstream = Get(compilation, "LinqStream.QStream");
        var stream = Get(compilation, "LinqStream.IQStream`1");
        return qstream is null || stream is null ? null : new KnownSymbols(compilation, qstream, stream);
    }

    /// <summary>Resolves any other type by metadata name (a rule calls it once, at compilation start).</summary>
    public INamedTypeSymbol? Get(string metadataName) => Get(Compilation, metadataName);

    /// <summary>Gets a value indicating whether <paramref name="type"/> is a LinqStream query (<c>IQStream&lt;T&gt;</c> or a type that implements it).</summary>
    public bool IsStream(ITypeSymbol? type) => Implements(type, Stream);

    /// <summary>Gets a value indicating whether <paramref name="type"/> is a windowed LinqStream query (<c>IQWindowedStream&lt;T&gt;</c>).</summary>
    public bool IsWindowedStream(ITypeSymbol? type) => WindowedStream is not null && Implements(type, WindowedStream);

    /// <summary>Gets a value indicating whether <paramref name="type"/> is the events of one window (<c>IWindow&lt;T&gt;</c> or <c>IWindowGroup&lt;TKey, T&gt;</c>).</summary>
    public bool IsWindow(ITypeSymbol? type) => Window is not null && Implements(type, Window);

    /// <summary>Gets a value indicating whether <paramref name="method"/> is declared by <c>LinqStream.QStream</c>.</summary>
    public bool IsQStreamMethod(IMethodSymbol method) => SymbolEqualityComparer.Default.Equals(method.ContainingType, QStream);

    /// <summary>
    /// Gets a value indicating whether <paramref name="method"/> is an Rx <c>Qbservable</c> operator over an <c>IQbservable&lt;T&gt;</c>, which
    /// builds its call into the source's expression (so LinqStream translates it); <c>AsQbservable(IObservable)</c> and the
    /// provider factories do not, and are not query operators.
    /// </summary>
    public bool IsQbservableMethod(IMethodSymbol method) =>
        SymbolEqualityComparer.Default.Equals(method.ContainingType, Qbservable)
        && method.Parameters.Length > 0 && Is(method.Parameters[0].Type, QbservableOfT);

    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? expected) =>
        expected is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, expected);

    /// <summary>Gets a value indicating whether <paramref name="type"/> is <paramref name="expected"/> or derives from it.</summary>
    public static bool IsOrDerives(ITypeSymbol? type, INamedTypeSymbol? expected)
    {
        for (var t = type; t is not null && expected is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, expected))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Implements(ITypeSymbol? type, INamedTypeSymbol definition)
    {
        if (type is null)
        {
            return false;
        }

        if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, definition))
        {
            return true;
        }

        foreach (var candidate in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(candidate.OriginalDefinition, definition))
            {
                return true;
            }
        }

        return false;
    }

#pragma warning disable RS0030 // The one place types are looked up by name: once per compilation, cached in this object.
    private static INamedTypeSymbol? Get(Compilation compilation, string metadataName) => compilation.GetTypeByMetadataName(metadataName);
#pragma warning restore RS0030
}
