using System.Reactive.Concurrency;
using System.Reactive.Subjects;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>
/// How the Rx.NET baselines get event time: Rx has no event-time windows, but its time-based operators (<c>Window(TimeSpan)</c>,
/// <c>Throttle</c>, <c>Observable.Timer</c>) take a scheduler, and Rx's own tool for running them over recorded data is a
/// virtual-time scheduler. The replay sets a <see cref="HistoricalScheduler"/>'s clock to each event's time before pushing the event,
/// so windows and timers fire exactly when event time passes them (a timer due at <c>t</c> fires before an event at <c>t</c>, which
/// gives half-open windows, as LinqStream's), and state is freed as event time moves on, as in the engine.
/// </summary>
public static class RxEventTime
{
    /// <summary>Pushes <paramref name="events"/> through <paramref name="query"/> in virtual time, then completes the input (which closes every open window).</summary>
    /// <param name="events">The events, in event-time order.</param>
    /// <param name="ticks">An event's time in ticks (UTC).</param>
    /// <param name="clockStart">The scheduler's clock when the query is subscribed: the start of the first window for <c>Window(TimeSpan)</c>.</param>
    /// <param name="query">The Rx query over the input and the scheduler to give its time-based operators.</param>
    /// <param name="sink">Receives the results.</param>
    public static void Replay<T, TResult>(
        T[] events, Func<T, long> ticks, long clockStart, Func<IObservable<T>, IScheduler, IObservable<TResult>> query, IObserver<TResult> sink)
    {
        var scheduler = new HistoricalScheduler(new DateTimeOffset(clockStart, TimeSpan.Zero));
        using var input = new Subject<T>();
        using (query(input, scheduler).Subscribe(sink))
        {
            long now = clockStart;
            foreach (var e in events)
            {
                long t = ticks(e);
                if (t > now)
                {
                    scheduler.AdvanceTo(new DateTimeOffset(t, TimeSpan.Zero));
                    now = t;
                }

                input.OnNext(e);
            }

            input.OnCompleted();
        }
    }

    /// <summary>
    /// The clock to subscribe <c>Window(size, hop)</c> at so that its windows are the epoch-aligned ones LinqStream uses and the first event
    /// is in all of its windows: the start of the earliest aligned window that holds <paramref name="firstTicks"/>.
    /// </summary>
    public static long AlignedStart(long firstTicks, TimeSpan size, TimeSpan hop)
    {
        long sinceEpoch = firstTicks - DateTime.UnixEpoch.Ticks;
        long lastStart = sinceEpoch - (sinceEpoch % hop.Ticks);
        return DateTime.UnixEpoch.Ticks + lastStart - size.Ticks + hop.Ticks;
    }
}
