using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;

namespace LinqStream;

/// <summary>
/// Reads a CSV file with a header line as a replayable source, positioned by byte offset. Columns bind to
/// <typeparamref name="T"/> by name (case-insensitive): to the parameters of its constructor (records, anonymous-like
/// types) or else to its settable properties; columns the type does not have are ignored. Values are read with the invariant
/// culture; an empty field is <see langword="null"/> for reference and nullable types.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// Fields follow RFC 4180 (commas, double quotes, <c>""</c> for a quote) except that a quoted field cannot hold a line break:
/// one record is one line, which is what makes the byte offset a position. A row with the wrong number of fields or a value
/// that does not parse goes to the dead letters with its line and the column at fault.
/// </remarks>
public sealed class CsvFileSource<T> : LineFileSource<T>
{
    private static readonly MethodInfo ParseMethod = typeof(CsvFileSource<T>).GetMethod(nameof(ParseField), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<string> _fields = [];
    private readonly StringBuilder _field = new();
    private Func<List<string>, T>? _bind;
    private int _columns;

    /// <summary>Initializes a new instance of the <see cref="CsvFileSource{T}"/> class.</summary>
    /// <param name="path">The file; its first line names the columns.</param>
    public CsvFileSource(string path)
        : base(path)
    {
    }

    /// <inheritdoc/>
    protected override int HeaderLines => 1;

    /// <inheritdoc/>
    protected override void ReadHeader(IReadOnlyList<string> lines)
    {
        if (!Split(lines[0].AsSpan().TrimEnd('\r'), out string reason))
        {
            throw new InvalidDataException($"'{Name}' line 1 (the header): {reason}.");
        }

        var columns = _fields.Select(f => f.Trim()).ToList();
        _columns = columns.Count;
        _bind = Binder(columns);
    }

    /// <inheritdoc/>
    protected override bool TryParse(ReadOnlySpan<byte> line, out T value, out string reason)
    {
        value = default!;
        if (!Split(StrictUtf8.GetString(line).AsSpan(), out reason))
        {
            return false;
        }

        if (_fields.Count != _columns)
        {
            reason = $"the row has {_fields.Count} fields; the header has {_columns}";
            return false;
        }

        value = _bind!(_fields);
        return true;
    }

    private static Func<List<string>, T> Binder(List<string> columns)
    {
        int Column(string name)
        {
            int index = columns.FindIndex(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            return index;
        }

        var fields = Expression.Parameter(typeof(List<string>), "fields");
        Expression Field(int index, Type type) =>
            Expression.Call(ParseMethod.MakeGenericMethod(type), Expression.Property(fields, "Item", Expression.Constant(index)), Expression.Constant(columns[index]));

        var constructor = typeof(T).GetConstructors()
            .Where(c => c.GetParameters().Length > 0 && c.GetParameters().All(p => Column(p.Name!) >= 0 || p.HasDefaultValue))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();
        Expression body;
        if (constructor is not null)
        {
            body = Expression.New(constructor, constructor.GetParameters().Select(p =>
                Column(p.Name!) is int i and >= 0 ? Field(i, p.ParameterType) : (Expression)Expression.Constant(p.DefaultValue, p.ParameterType)));
        }
        else if (typeof(T).GetConstructor(Type.EmptyTypes) is not null || typeof(T).IsValueType)
        {
            var bindings = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true } && Column(p.Name) >= 0)
                .Select(p => (MemberBinding)Expression.Bind(p, Field(Column(p.Name), p.PropertyType)))
                .ToList();
            if (bindings.Count == 0)
            {
                throw new InvalidDataException($"None of the CSV columns ({string.Join(", ", columns)}) is a settable property of {typeof(T).Name}.");
            }

            body = Expression.MemberInit(Expression.New(typeof(T)), bindings);
        }
        else
        {
            throw new InvalidDataException(
                $"{typeof(T).Name} has no constructor whose parameters are all CSV columns ({string.Join(", ", columns)}), and no parameterless constructor.");
        }

        return Expression.Lambda<Func<List<string>, T>>(body, fields).Compile();
    }

    private static TValue ParseField<TValue>(string text, string column)
    {
        var type = Nullable.GetUnderlyingType(typeof(TValue)) ?? typeof(TValue);
        if (text.Length == 0 && (!typeof(TValue).IsValueType || type != typeof(TValue)))
        {
            return typeof(TValue) == typeof(string) ? (TValue)(object)string.Empty : default!;
        }

        try
        {
            object value = type switch
            {
                _ when type == typeof(string) => text,
                _ when type.IsEnum => Enum.Parse(type, text, ignoreCase: true),
                _ when type == typeof(DateTime) => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                _ when type == typeof(DateTimeOffset) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                _ when type == typeof(TimeSpan) => TimeSpan.Parse(text, CultureInfo.InvariantCulture),
                _ when type == typeof(Guid) => Guid.Parse(text),
                _ when type == typeof(bool) => bool.Parse(text),
                _ when type == typeof(char) && text.Length == 1 => text[0],
                _ when typeof(IConvertible).IsAssignableFrom(type) => Convert.ChangeType(text, type, CultureInfo.InvariantCulture),
                _ => throw new NotSupportedException($"a CSV column cannot hold a {type.Name}"),
            };
            return (TValue)value;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or InvalidCastException)
        {
            throw new FormatException($"column '{column}': '{(text.Length <= 100 ? text : text[..100] + "…")}' is not a {type.Name} ({ex.Message})", ex);
        }
    }

    private bool Split(ReadOnlySpan<char> line, out string reason)
    {
        _fields.Clear();
        int i = 0;
        while (true)
        {
            _field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        reason = "a quoted field is not closed on its line";
                        return false;
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            _field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    _field.Append(line[i++]);
                }

                if (i < line.Length && line[i] != ',')
                {
                    reason = $"unexpected '{line[i]}' after a quoted field at column {i + 1}";
                    return false;
                }
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                {
                    _field.Append(line[i++]);
                }
            }

            _fields.Add(_field.ToString());
            if (i >= line.Length)
            {
                reason = string.Empty;
                return true;
            }

            i++;
        }
    }
}
