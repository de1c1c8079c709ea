namespace LinqStream.Testing;
/// <summary>x</summary>
public static class Placeholder { }
