using System.Runtime.CompilerServices;
using LinqStream.Physical.Kernels;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>
/// Turns <see cref="KernelCompiler.VerifyRecipes"/> on for the conformance suite: every kernel found by its recipe (a query shape
/// compiled again) is also built and compared with the cached one.
/// </summary>
internal static class VerifyKernelRecipes
{
    [ModuleInitializer]
    internal static void TurnOn() => KernelCompiler.VerifyRecipes = true;
}
