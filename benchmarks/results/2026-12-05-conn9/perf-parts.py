#!/usr/bin/env python3
"""Splits the samples of a connector job's `perf record -g` into parts, for µs/event per part.

Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | python3 perf-parts.py [client-µs-per-event]

A sample of the runtime's tier-up thread is "JIT (tier-up thread)", of a GC thread "GC (background)". Any other sample goes to the
part of the first frame, from the leaf up, that a part's pattern matches (frames no pattern matches -- unresolved runtime code,
most kernel functions -- are passed over, so an allocation's GC or a receive's kernel work counts for the code that called it).
"""
import re, sys, collections

PARTS = [
    ("strings (validate, transcode, allocate, string table)", r"Utf8StringCache|Utf8JsonReader::GetString|Transcod|Utf8Utility|Utf8::ToUtf16|FastAllocateString|Ascii::Equals|Ascii\.Equals"),
    ("JSON decode (tokens, numbers, dates, the record)", r"RecordJsonDecoder|Utf8JsonReader|JsonReaderHelper|JsonEventSerializer|RecordSlots|JsonHelpers|LinqStream\.Testing\.Nexmark\.Bid"),
    ("framing (RESP / NATS frames, ids, sequences)", r"RespStreamReader|RespCursor|RespNumber|XReadReply|NatsPullReader|NatsPullMessage|JetStreamReplySubject|DecodedMessage|AsciiNumber|RedisEntryId|SocketBuffers|::Take\(|::Accept\(|::Decode\("),
    ("sink (result writes)", r"RedisStreamSink|NatsJetStreamSink|StackExchange\.Redis|NATS\.Client|Utf8JsonWriter|JsonSerializer::Serialize"),
    ("query (q5 operators)", r"LinqStream\.Physical|LinqStream\.Temporal|LinqStream\.Parallel\.KeyOrder|LinqStream\.Runtime\.State|LinqStream\.Runtime\.Tables|QueryRunner|Q5HotItems"),
    ("ingress (source task, hand-off)", r"LinqStream\.Runtime\.Ingress|CpuMarkingSource|EventBatch|BatchPool|Channel|ReadAsync>d|ReadRawAsync|FetchAsync|NatsJetStreamSource|RedisStreamSource"),
    ("thread pool wait / spin", r"LowLevelLifoSemaphore|LowLevelSpinWaiter|PortableThreadPool|WorkerThread|sched_yield|SpinWait|futex"),
    ("socket receive / send, epoll", r"Socket|SystemNative_|epoll|tcp_|sock_|inet_|__sys_recv|__sys_send|recvmsg|sendmsg|skb"),
    ("JIT on the worker threads", r"libclrjit"),
]
compiled = [(n, re.compile(p)) for n, p in PARTS]
ORDER = ["JIT (tier-up thread)", "GC (background)"] + [n for n, _ in PARTS] + ["kernel, other", "runtime, other"]

def samples(lines):
    head, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if head is not None:
                yield head, frames
            head, frames = None, []
        elif not line.startswith(("\t", " ")):
            head, frames = line, []
        else:
            frames.append(line.strip())
    if head is not None:
        yield head, frames

def classify(comm, frames):
    if comm.startswith(".NET Tiered Com"):
        return "JIT (tier-up thread)"
    if comm.startswith((".NET BGC", ".NET Server GC", ".NET GC")):
        return "GC (background)"
    for frame in frames:
        for name, rx in compiled:
            if rx.search(frame):
                return name
    return "kernel, other" if frames and "kernel.kallsyms" in frames[0] else "runtime, other"

def main():
    us = float(sys.argv[1]) if len(sys.argv) > 1 else None
    total = 0
    parts = collections.Counter()
    for head, frames in samples(sys.stdin):
        comm = head.rsplit(None, 1)[0].strip() if len(head.split()) > 1 else head
        total += 1
        parts[classify(comm, frames)] += 1
    print(f"{total} samples")
    for name in ORDER:
        n = parts[name]
        share = n / total if total else 0
        extra = f"  ~{share * us:.3f} µs/event" if us else ""
        print(f"  {name:56s} {n:6d}  {share * 100:5.1f} %{extra}")

main()
