using System.Runtime.InteropServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.SelectMany;

/// <summary>Enumerates each event's sequence into output batches that carry the input event's lifetime.</summary>
/// <remarks>
/// The one delegate call and the enumeration per event are inherent to SelectMany; arrays and lists are read by index so
/// they cost no enumerator. Output batches are filled to capacity and the last partial one is sent at the end of each
/// input batch. A lazy sequence is first read into a reused staging list, so an event whose enumeration throws gives none of
/// its results whatever the batch size (ErrorPolicy.SkipAndDeadLetter is all-or-nothing per event).
/// </remarks>
internal sealed class SelectManyOperator<TIn, TOut> : UnaryOperator<TIn, TOut>
{
    private const string OperatorName = "SelectMany";

    private readonly Func<TIn, IEnumerable<TOut>> _selector;
    private readonly string _expression;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<TIn> _inputPool;
    private readonly BatchPool<TOut> _outputPool;
    private readonly List<TOut> _staged = [];
    private EventBatch<TOut>? _output;

    public SelectManyOperator(IStreamObserver<TOut> downstream, QueryContext context, Func<TIn, IEnumerable<TOut>> selector, string expression)
        : base(downstream, context)
    {
        _selector = selector;
        _expression = expression;
        _failures = new UserCodeFailures(context, OperatorName, expression);
        _inputPool = context.Pool<TIn>();
        _outputPool = context.Pool<TOut>();
    }

    public override void OnBatch(EventBatch<TIn> batch)
    {
        if (Faulted)
        {
            _inputPool.Return(batch);
            return;
        }

        try
        {
            Expand(batch);
        }
        catch (Exception ex)
        {
            _inputPool.Return(batch);
            if (_output is not null)
            {
                _outputPool.Return(_output);
                _output = null;
            }

            Fail(ex, OperatorName, _expression);
            return;
        }

        _inputPool.Return(batch);
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            Downstream.OnBatch(output);
        }
    }

    private void Expand(EventBatch<TIn> batch)
    {
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        int count = batch.Count;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            long s = start[i], e = end[i];
            try
            {
                ExpandOne(s, e, payload[i]);
            }
            catch (Exception ex) when (ex is not QueryExecutionException)
            {
                // Nothing of this event was added: its sequence is read completely before any result goes out.
                _staged.Clear();
                if (_failures.Skip(ex, s, payload[i]) is { } stop)
                {
                    throw stop;
                }
            }
        }
    }

    private void ExpandOne(long s, long e, TIn payload)
    {
        {
            var items = _selector(payload) ?? throw new InvalidOperationException("The selector returned null instead of a sequence.");
            switch (items)
            {
                case TOut[] array:
                    foreach (var item in array)
                    {
                        Add(s, e, item);
                    }

                    break;

                case List<TOut> list:
                    foreach (var item in CollectionsMarshal.AsSpan(list))
                    {
                        Add(s, e, item);
                    }

                    break;

                default:
                    // Read it all first: a lazy sequence may throw part way, and then none of its results may go out.
                    _staged.Clear();
                    foreach (var item in items)
                    {
                        _staged.Add(item);
                    }

                    foreach (var item in CollectionsMarshal.AsSpan(_staged))
                    {
                        Add(s, e, item);
                    }

                    _staged.Clear();
                    break;
            }
        }
    }

    private void Add(long start, long end, TOut item)
    {
        var output = _output ??= _outputPool.Rent();
        output.Add(start, end, item);
        if (output.IsFull)
        {
            // Sent from inside the user's enumeration: downstream operators catch their own failures, so nothing thrown
            // here is the downstream's.
            _output = null;
            Downstream.OnBatch(output);
        }
    }
}
