using System.Reflection;

namespace LinqStream.Io.Json;

/// <summary>One JSON property of a record as the decoder reads it: its name in UTF-8, how its value is read, and where it goes.</summary>
internal sealed class RecordJsonMember
{
    /// <summary>Gets the JSON name (after the naming policy), as System.Text.Json's metadata gives it.</summary>
    public required string Name { get; init; }

    /// <summary>Gets <see cref="Name"/> in UTF-8, matched against the reader's property names.</summary>
    public required byte[] Utf8Name { get; init; }

    /// <summary>Gets how the value is read.</summary>
    public required RecordMemberKind Kind { get; init; }

    /// <summary>Gets the member's declared type (a <see cref="Nullable{T}"/> included).</summary>
    public required Type Type { get; init; }

    /// <summary>Gets the type the value is read as: <see cref="Type"/> without <see cref="Nullable{T}"/> (an enum stays an enum).</summary>
    public required Type ValueType { get; init; }

    /// <summary>Gets a value indicating whether a JSON <c>null</c> is a value (a reference type or a <see cref="Nullable{T}"/>).</summary>
    public required bool AcceptsNull { get; init; }

    /// <summary>Gets the index into the slot array of <see cref="Kind"/>.</summary>
    public int Slot { get; set; }

    /// <summary>Gets the property or field set after the constructor, or <see langword="null"/> for a constructor parameter or an ignored member.</summary>
    public MemberInfo? Member { get; init; }

    /// <summary>Gets the constructor parameter's position, or -1.</summary>
    public int Parameter { get; init; } = -1;

    /// <summary>Gets the value a missing constructor parameter takes (its default value, or <see langword="null"/> for the type's default).</summary>
    public object? ParameterDefault { get; init; }

    /// <summary>
    /// Gets a value indicating whether a <see cref="Member"/> the JSON did not give is set to <see cref="ParameterDefault"/> anyway:
    /// System.Text.Json's source-generated metadata sets an <c>init</c>-only member through the object initializer, whose missing
    /// values are defaults (the member's own initializer is lost), where the reflection metadata leaves the member alone.
    /// </summary>
    public bool AssignWhenMissing { get; init; }

    /// <summary>Gets the decoder of a nested record (<see cref="RecordMemberKind.Record"/>).</summary>
    public RecordJsonDecoder? Nested { get; init; }

    /// <summary>Gets the strings this member read lately (<see cref="RecordMemberKind.String"/> only).</summary>
    public Utf8StringCache? Strings { get; init; }
}
