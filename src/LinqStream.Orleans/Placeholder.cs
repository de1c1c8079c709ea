namespace LinqStream.Orleans;

internal static class Placeholder;
