namespace LinqStream.Cli.Scripting;

/// <summary>The kind of value a field holds, inferred from the first valid record of the file.</summary>
internal enum FieldKind
{
    Number,
    String,
    Bool,
    /// <summary>A JSON object or array, kept as its JSON text.</summary>
    Json,
}

/// <summary>The field names and kinds shared by every <see cref="Row"/> of one file.</summary>
internal sealed class RowSchema
{
    private readonly Dictionary<string, int> _indexes = new(StringComparer.OrdinalIgnoreCase);

    public RowSchema(IReadOnlyList<string> names, IReadOnlyList<FieldKind> kinds, int timeIndex)
    {
        Names = names;
        Kinds = kinds;
        TimeIndex = timeIndex;
        for (int i = 0; i < names.Count; i++)
        {
            _indexes.TryAdd(names[i], i);
        }
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<FieldKind> Kinds { get; }

    /// <summary>Gets the index of the time field.</summary>
    public int TimeIndex { get; }

    public bool TryGetIndex(string name, out int index) => _indexes.TryGetValue(name, out index);

    public static string Describe(FieldKind kind) => kind switch
    {
        FieldKind.Number => "a number",
        FieldKind.String => "a string",
        FieldKind.Bool => "a boolean",
        _ => "an object or array",
    };
}
