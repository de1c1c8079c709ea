using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0003: a blocking wait, a sleep, or file, network or console I/O inside a query lambda.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockingCallAnalyzer : DiagnosticAnalyzer
{
    private const string TaskWait = "a task";
    private const string Sleep = "a sleep";
    private const string FileIO = "file I/O";
    private const string NetworkIO = "network I/O";
    private const string ConsoleIO = "console input";
    private const string Lock = "a lock";

    private static readonly ImmutableHashSet<string> s_streamMethods = ImmutableHashSet.Create(
        "Read", "ReadByte", "ReadExactly", "ReadAtLeast", "Write", "WriteByte", "CopyTo", "Flush");

    private static readonly ImmutableHashSet<string> s_readerMethods = ImmutableHashSet.Create("Read", "ReadLine", "ReadToEnd", "ReadBlock");

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.BlockingCall);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        QueryLambdaMemberRule.Register(context, DiagnosticDescriptors.BlockingCall, known => new BlockingCalls(known).Classify);
    }

    /// <summary>The members that block the calling thread.</summary>
    private sealed class BlockingCalls(KnownSymbols known)
    {
        private readonly INamedTypeSymbol? _task = known.Get("System.Threading.Tasks.Task");
        private readonly INamedTypeSymbol? _taskOfT = known.Get("System.Threading.Tasks.Task`1");
        private readonly INamedTypeSymbol? _valueTaskOfT = known.Get("System.Threading.Tasks.ValueTask`1");
        private readonly INamedTypeSymbol? _thread = known.Get("System.Threading.Thread");
        private readonly INamedTypeSymbol? _semaphoreSlim = known.Get("System.Threading.SemaphoreSlim");
        private readonly INamedTypeSymbol? _monitor = known.Get("System.Threading.Monitor");
        private readonly INamedTypeSymbol? _file = known.Get("System.IO.File");
        private readonly INamedTypeSymbol? _directory = known.Get("System.IO.Directory");
        private readonly INamedTypeSymbol? _stream = known.Get("System.IO.Stream");
        private readonly INamedTypeSymbol? _fileStream = known.Get("System.IO.FileStream");
        private readonly INamedTypeSymbol? _textReader = known.Get("System.IO.TextReader");
        private readonly INamedTypeSymbol? _stringReader = known.Get("System.IO.StringReader");
        private readonly INamedTypeSymbol? _streamReader = known.Get("System.IO.StreamReader");
        private readonly INamedTypeSymbol? _streamWriter = known.Get("System.IO.StreamWriter");
        private readonly INamedTypeSymbol? _httpInvoker = known.Get("System.Net.Http.HttpMessageInvoker");
        private readonly INamedTypeSymbol? _webClient = known.Get("System.Net.WebClient");
        private readonly INamedTypeSymbol? _dns = known.Get("System.Net.Dns");
        private readonly INamedTypeSymbol? _socket = known.Get("System.Net.Sockets.Socket");
        private readonly INamedTypeSymbol? _console = known.Get("System.Console");

        /// <summary>Returns what <paramref name="operation"/> blocks on, or null when it does not block.</summary>
        public string? Classify(IOperation operation) => operation switch
        {
            IPropertyReferenceOperation { Property.Name: "Result" } property
                when KnownSymbols.Is(property.Property.ContainingType, _taskOfT) || KnownSymbols.Is(property.Property.ContainingType, _valueTaskOfT) => TaskWait,
            IInvocationOperation invocation => Method(invocation.TargetMethod),
            IObjectCreationOperation creation => Creation(creation),
            _ => null,
        };

        private string? Method(IMethodSymbol method)
        {
            var type = method.ContainingType;
            string name = method.Name;
            if (name == "GetResult" && type is { Name: "TaskAwaiter" or "ValueTaskAwaiter" or "ConfiguredTaskAwaiter" or "ConfiguredValueTaskAwaiter" })
            {
                return TaskWait;
            }

            return name switch
            {
                "Wait" or "WaitAll" or "WaitAny" when KnownSymbols.IsOrDerives(type, _task) => TaskWait,
                "Sleep" or "Join" when KnownSymbols.Is(type, _thread) => Sleep,
                "Wait" when KnownSymbols.Is(type, _semaphoreSlim) => Lock,
                "Enter" or "Wait" when KnownSymbols.Is(type, _monitor) => Lock,
                "Read" or "ReadLine" or "ReadKey" when KnownSymbols.Is(type, _console) => ConsoleIO,
                _ when KnownSymbols.Is(type, _file) || KnownSymbols.Is(type, _directory) => FileIO,
                _ when s_streamMethods.Contains(name) && KnownSymbols.IsOrDerives(type, _stream) => KnownSymbols.IsOrDerives(type, _fileStream) ? FileIO : "a stream",
                // A StringReader reads memory: not I/O.
                _ when s_readerMethods.Contains(name) && KnownSymbols.IsOrDerives(type, _textReader) && !KnownSymbols.IsOrDerives(type, _stringReader) => "a reader",
                _ when KnownSymbols.IsOrDerives(type, _httpInvoker) || KnownSymbols.IsOrDerives(type, _webClient) || KnownSymbols.Is(type, _dns) => NetworkIO,
                _ when KnownSymbols.IsOrDerives(type, _socket) && !method.IsStatic => NetworkIO,
                _ => null,
            };
        }

        private string? Creation(IObjectCreationOperation creation)
        {
            var type = creation.Type;
            if (KnownSymbols.IsOrDerives(type, _fileStream))
            {
                return FileIO;
            }

            // new StreamReader("path") opens a file; new StreamReader(stream) does not.
            bool opensPath = creation.Constructor is { Parameters.Length: > 0 } ctor && ctor.Parameters[0].Type.SpecialType == SpecialType.System_String;
            return opensPath && (KnownSymbols.Is(type, _streamReader) || KnownSymbols.Is(type, _streamWriter)) ? FileIO : null;
        }
    }
}
