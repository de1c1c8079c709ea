using System.Runtime.CompilerServices;
using LinqStream.Physical.Kernels;

namespace LinqStream.Tests.Infrastructure;

/// <summary>
/// Turns <see cref="KernelCompiler.VerifyRecipes"/> on for the whole test assembly: every kernel found by its recipe (a query
/// compiled again) is also built and compared with the cached one, so a builder whose loop depends on something its recipe does not
/// hold fails the test that compiles it twice.
/// </summary>
internal static class VerifyKernelRecipes
{
    [ModuleInitializer]
    internal static void TurnOn() => KernelCompiler.VerifyRecipes = true;
}
