#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Testing.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.dll"
#r "/work/main/artifacts/bin/LinqStream.Benchmarks/release/LinqStream.Benchmarks.dll"
open System
open System.Collections.Generic
let input = LinqStream.Benchmarks.Scenarios.Nexmark.NexmarkInput.Generate(1_000_000, 100_000L)
let bids = input.Events |> Array.choose (fun e -> if isNull (box e.Bid) then None else Some e.Bid)
let hop = TimeSpan.FromSeconds(2.).Ticks
let t0 = bids |> Array.map (fun b -> b.DateTime.Ticks) |> Array.min
let t1 = bids |> Array.map (fun b -> b.DateTime.Ticks) |> Array.max
printfn "bids %d span %.2f s" bids.Length (float (t1 - t0) / 1e7)
let panes = Dictionary<int64, HashSet<int64>>()
for b in bids do
  let p = b.DateTime.Ticks / hop
  match panes.TryGetValue p with
  | true, s -> s.Add b.Auction |> ignore
  | _ -> let s = HashSet<int64>() in s.Add b.Auction |> ignore; panes[p] <- s
let ps = panes.Keys |> Seq.sort |> Seq.toArray
for p in ps do
  let win = HashSet<int64>()
  for q in p-4L .. p do (match panes.TryGetValue q with | true, s -> win.UnionWith s | _ -> ())
  printfn "pane %d: distinct %d; window ending with it: distinct %d" p panes[p].Count win.Count
