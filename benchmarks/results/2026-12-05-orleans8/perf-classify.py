import sys, re, collections
# Attributes each perf sample to a category by its thread and the first managed (perf-map) frame from the leaf up.
def category(comm, frames):
    managed = [f for f in frames if 'perf-' in f[1] and '.map' in f[1]]
    leaf_dso = frames[0][1] if frames else ''
    text = ' | '.join(f[0] for f in frames)
    if 'Tiered Com' in comm or 'libclrjit' in leaf_dso:
        return 'JIT (tiering)'
    if 'BGC' in comm or '.NET GC' in comm or 'Server GC' in comm:
        return 'GC (background thread)'
    first = managed[0][0] if managed else ''
    # look through the managed frames for the most specific owner
    m = ' | '.join(re.sub(r'\(.*', '', f[0]) for f in managed[:12])
    gc_like = 'libcoreclr' in leaf_dso or 'memset' in frames[0][0] or 'clear_page' in frames[0][0] or 'page_fault' in text
    def owner():
        if 'FrameColumnsCodec' in m: return 'Orleans messaging/serialization'
        if 'EngineRecord' in m or 'SliceCodec' in m or 'KeyGroup' in m or 'Checkpoint' in m or 'WriteState' in m or 'MemoryStream::ToArray' in m: return 'checkpoints (slices written, read, written again)'
        if 'ColumnReader' in m or 'BinaryColumnCodec`1[System.__Canon]::Read' in m or re.search(r'lambda_method\d+\([^)]*ColumnReader', m): return 'decode records (receiver: strings, records)'
        if 'ColumnWriter' in m or 'BinaryColumnCodec`1[System.__Canon]::Write' in m or 'GetByteCount' in m: return 'encode records (sender)'
        if 'EventBatchCodec' in m or 'FrameColumns' in m: return 'frame codec (times, copies)'
        if 'ChannelWriter' in m and 'Append' in m: return 'coalescing copy'
        if re.search(r'\[Orleans\.', m) or 'Orleans.Serialization' in m: return 'Orleans messaging/serialization'
        if 'StackExchange.Redis' in m or 'RedisStreamSink' in m or 'System.Text.Json' in m: return 'Redis sink and client (JSON)'
        if 'KeyedTaskRun' in m and 'Deliver' in m and 'WindowAggregate' not in m and 'Union' not in m: return 'keyed task input (batches rented, delivered)'
        if 'LinqStream.Orleans.Channels' in m: return 'channel protocol (sender/receiver)'
        if 'IngressOrderer' in m or 'Ingress' in m: return 'ingress (reorder)'
        if 'HashExchange' in m or 'StableKeyHash' in m: return 'hash exchange'
        if 'UnionOperator' in m or 'CanonicalUnion' in m: return 'union'
        if 'WindowAggregate' in m or 'CountColumn' in m or 'KeyOrder' in m or 'Aggregate' in m: return 'window aggregate'
        if 'OrderRestoringMerge' in m: return 'merge'
        if 'Checkpoint' in m or 'WriteState' in m or 'SliceCodec' in m: return 'checkpoints'
        if 'SpscChannel' in m or 'SpinWait' in m or 'Monitor' in m or 'LowLevelLifoSemaphore' in m or 'Semaphore' in m or 'WaitHandle' in m: return 'waiting/spinning (channels, thread pool)'
        if 'ThreadPool' in m or 'PortableThreadPool' in m or 'WorkerThread' in m: return 'thread pool dispatch'
        if 'lambda_method' in m or 'dynamicClass' in m: return 'query kernels (compiled)'
        if 'LinqStream' in m: return 'other LinqStream: ' + re.sub(r'\(.*','',first)[-80:]
        if not managed: return 'native only (kernel/runtime, no managed frame)'
        return 'other managed: ' + re.sub(r'\(.*','',first)[-80:]
    o = owner()
    return o + (' [GC/alloc/page faults]' if gc_like and not o.startswith('native') else '')
samples = collections.Counter(); total = 0
comm=None; frames=[]
def flush():
    global total
    if comm is not None:
        samples[category(comm, frames)] += 1; total += 1
for line in sys.stdin:
    if not line.strip():
        flush(); comm=None; frames=[]; continue
    if not line.startswith('\t') and not line.startswith(' '):
        comm = line[:16].strip(); frames=[]; continue
    mm = re.match(r'\s*[0-9a-f]+ (.*) \(([^)]*)\)\s*$', line)
    if mm: frames.append((mm.group(1), mm.group(2)))
flush()
agg = collections.Counter()
for k,v in samples.items(): agg[k.replace(' [GC/alloc/page faults]','')] += v
print(f'{total} samples')
for k,v in agg.most_common(25):
    gc = samples.get(k+' [GC/alloc/page faults]',0)
    print(f'{100*v/total:6.1f}%  {k}   (of which in the runtime/GC/page faults: {100*gc/total:.1f}%)')
