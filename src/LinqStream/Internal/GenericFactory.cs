using System.Collections.Concurrent;
using System.Reflection;

namespace LinqStream.Internal;

/// <summary>
/// Calls a typed generic factory (<c>static X Create&lt;T1, T2&gt;(...)</c>) for type arguments known only at run time: the
/// method is closed once per type list and turned into a delegate, so the call itself is an ordinary typed call.
/// </summary>
/// <remarks>
/// This replaces <c>Activator.CreateInstance(type, object[])</c>: the arguments are type-checked by the compiler, a wrong
/// argument fails at compile time, and "go to definition" on the factory lands on the constructor it calls.
/// </remarks>
internal static class GenericFactory
{
    private static readonly ConcurrentDictionary<MethodInfo, Delegate> s_delegates = new();

    /// <summary>Gets <paramref name="definition"/> closed over <paramref name="types"/> as a <typeparamref name="TDelegate"/>.</summary>
    public static TDelegate Get<TDelegate>(MethodInfo definition, params Type[] types)
        where TDelegate : Delegate =>
        (TDelegate)s_delegates.GetOrAdd(definition.MakeGenericMethod(types), static method => method.CreateDelegate<TDelegate>());

    /// <summary>Gets the generic method definition named <paramref name="name"/> declared by <paramref name="type"/>.</summary>
    public static MethodInfo Definition(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly)
        ?? throw new MissingMethodException(type.Name, name);
}
