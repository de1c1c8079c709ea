#!/usr/bin/env python3
"""Splits `perf script` samples (with call chains) of a connector run into parts, for µs/event per part.

Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | python3 perf-parts.py [client-µs-per-event]
Each sample goes to the first part (in the order below) that any frame of its stack matches, so GC and the JIT win over the
code that triggered them, and strings win over the JSON decoding around them. Prints per-part share, and per thread name.
"""
import re, sys, collections

PARTS = [
    ("GC", r"WKS::|SVR::|gc_heap|GCHeap::|memset_repmovs|JIT_New|Alloc(ate)?(Small|String|Array)|RhpNew|gc\.cpp"),
    ("JIT / tiering", r"libclrjit|TieredCompilation|CallCountingManager|ThePreStub|MethodDesc::DoPrestub"),
    ("sink (writes)", r"RedisStreamSink|NatsJetStreamSink|StackExchange\.Redis|NATS\.Client|Utf8JsonWriter|JsonSerializer\.Serialize|EgressDriver|Egress"),
    ("strings", r"Utf8StringCache|Utf8JsonReader::GetString|Utf8JsonReader\.GetString|Transcod|Utf8Utility|Utf8\.ToUtf16|FastAllocateString|Ascii\.Equals|Ascii::Equals"),
    ("JSON decode", r"RecordJsonDecoder|Utf8JsonReader|JsonReaderHelper|JsonEventSerializer|RecordSlots|Utf8Parser|TryGetDateTime|JsonHelpers|lambda_method|Closure"),
    ("framing (RESP / NATS)", r"RespStreamReader|XReadReply|NatsPullReader|NatsPullMessage|JetStreamReplySubject|DecodedMessage|AsciiNumber|RedisEntryId|SocketBuffers\.MakeRoom|ParseId|TryTakeMessage|TryFrame"),
    ("socket read / send", r"Socket|tcp_|sock_|inet_|__sys_recv|__sys_send|epoll|ep_poll|skb|copy_user|_copy_to_iter|libSystem\.Native|SystemNative_"),
    ("query", r"LinqStream\.Physical|LinqStream\.Temporal|LinqStream\.Runtime\.State|LinqStream\.Runtime\.Tables|Q5HotItems|KeyedFold|Window"),
    ("ingress / source task", r"LinqStream\.Runtime\.Ingress|SourceDriver|CpuMarkingSource|RedisStreamSource|NatsJetStreamSource|EventBatch|BatchPool|LinqStream\.Runtime"),
    ("thread pool wait / spin", r"LowLevelLifoSemaphore|LowLevelSpinWaiter|PortableThreadPool|WorkerThread|sched_yield|futex|SpinWait|ThreadPoolWorkQueue"),
    ("kernel, other", r"\[kernel\.kallsyms\]"),
]
compiled = [(n, re.compile(p)) for n, p in PARTS]

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

def main():
    us = float(sys.argv[1]) if len(sys.argv) > 1 else None
    total = 0
    parts = collections.Counter()
    threads = collections.Counter()
    for head, frames in samples(sys.stdin):
        total += 1
        thread = re.sub(r"[\s\d/:-]+$", "", head.split()[0]) if head.split() else "?"
        threads[thread] += 1
        text = "\n".join(frames)
        for name, rx in compiled:
            if rx.search(text):
                parts[name] += 1
                break
        else:
            parts["other (runtime, unresolved)"] += 1
    print(f"{total} samples")
    for name, _ in PARTS + [("other (runtime, unresolved)", None)]:
        n = parts[name]
        share = n / total if total else 0
        extra = f"  ~{share * us:.3f} µs/event" if us else ""
        print(f"  {name:32s} {n:6d}  {share * 100:5.1f} %{extra}")
    print("by thread:")
    for t, n in threads.most_common(12):
        print(f"  {t:32s} {n:6d}  {n / total * 100:5.1f} %")

main()
