// The same script for the branch: sed "s#/work/main/artifacts#/work/wt/rocks15/artifacts#; s/main run/branch run/" q5-main.fsx > q5-branch.fsx
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/System.Reactive.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Testing.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.State.RocksDb.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll"
open System
open LinqStream
open LinqStream.State.RocksDb
let input = LinqStream.Benchmarks.Scenarios.Nexmark.NexmarkInput.Generate(1_000_000, 100_000L)
let q = LinqStream.Benchmarks.Scenarios.Nexmark.Q5HotItems()
let dir = IO.Path.Combine(IO.Path.GetTempPath(), "rocks15-q5-" + Guid.NewGuid().ToString("N"))
for i in 1 .. 4 do
  let sink = new LinqStream.Testing.Io.MemorySink<LinqStream.Benchmarks.Scenarios.Nexmark.HotItem>()
  let opts = JobOptions(State = (RocksDbStateBackend(IO.Path.Combine(dir, string i)) :> StateBackend))
  let job = q.LinqStream(input).ToJob(sink, opts)
  let sw = Diagnostics.Stopwatch.StartNew()
  job.RunAsync().GetAwaiter().GetResult()
  sw.Stop()
  job.DisposeAsync().AsTask().GetAwaiter().GetResult()
  printfn "main run %d: %d results, %.1f ns/event (load %s)" i sink.Items.Count (float sw.Elapsed.Ticks * 100.0 / 1e6) (IO.File.ReadAllText("/proc/loadavg").Split(' ').[0])
IO.Directory.Delete(dir, true)
