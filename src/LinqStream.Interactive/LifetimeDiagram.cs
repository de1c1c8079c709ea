using System.Globalization;
using System.Net;
using System.Text;

namespace LinqStream.Interactive;

/// <summary>
/// An ASCII picture of event lifetimes on a time axis, one line per event: <c>[====)</c> for an interval <c>[start, end)</c>, <c>|</c> for a
/// point event (a lifetime of one tick). A notebook shows it in a <c>pre</c> block.
/// </summary>
public sealed class LifetimeDiagram
{
    private readonly string _text;

    internal LifetimeDiagram(string text) => _text = text;

    /// <summary>Returns the picture.</summary>
    /// <returns>The lines of the picture, joined by new lines.</returns>
    public override string ToString() => _text;

    /// <summary>Returns the picture in an HTML <c>pre</c> block.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() => $"<pre>{WebUtility.HtmlEncode(_text)}</pre>";
}

/// <summary>Draws <see cref="LifetimeDiagram"/>s of streams of events.</summary>
public static class Lifetimes
{
    /// <summary>Draws each event's lifetime <c>[Start, End)</c>, one line per event, labelled by <paramref name="label"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="events">The events, as <c>ToStreamEvents()</c> gives them.</param>
    /// <param name="label">The label of an event's line.</param>
    /// <param name="unit">The time one character stands for.</param>
    /// <param name="origin">The time of the first column; by default the earliest start, rounded down to a multiple of 5 units.</param>
    /// <returns>The picture.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or <paramref name="label"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not positive.</exception>
    public static LifetimeDiagram Diagram<T>(this IEnumerable<StreamEvent<T>> events, Func<T, string> label, TimeSpan unit, DateTimeOffset? origin = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(unit, TimeSpan.Zero);
        var rows = events.Select(e => (Label: label(e.Payload), e.Start, e.End)).ToArray();
        return Draw(rows, unit.Ticks, origin?.UtcTicks);
    }

    /// <summary>Draws labelled intervals <c>[Start, End)</c>, for pictures of inputs before they are streams.</summary>
    /// <param name="intervals">The label, start and end of each line.</param>
    /// <param name="unit">The time one character stands for.</param>
    /// <param name="origin">The time of the first column; by default the earliest start, rounded down to a multiple of 5 units.</param>
    /// <returns>The picture.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="intervals"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not positive.</exception>
    public static LifetimeDiagram Diagram(IEnumerable<(string Label, DateTimeOffset Start, DateTimeOffset End)> intervals, TimeSpan unit, DateTimeOffset? origin = null)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(unit, TimeSpan.Zero);
        return Draw([.. intervals.Select(i => (i.Label, i.Start.UtcTicks, i.End.UtcTicks))], unit.Ticks, origin?.UtcTicks);
    }

    private static LifetimeDiagram Draw((string Label, long Start, long End)[] rows, long unit, long? origin)
    {
        if (rows.Length == 0)
        {
            return new LifetimeDiagram("(no events)");
        }

        long first = origin ?? Floor(rows.Min(r => r.Start), 5 * unit);
        int width = rows.Max(r => r.Label.Length);
        int columns = (int)Math.Min(200, (rows.Max(r => r.End) - first + unit - 1) / unit + 1);
        var text = new StringBuilder();

        // The axis: the time every 10 columns (hh:mm:ss when a column is a second or more, else seconds from the origin), '+' every 5.
        var axis = new StringBuilder(new string(' ', width + 1));
        for (int c = 0; c < columns; c += 10)
        {
            axis.Append(Label(first + c * unit, first, unit).PadRight(10));
        }

        var marks = new StringBuilder(new string(' ', width + 1));
        for (int c = 0; c < columns; c++)
        {
            marks.Append(c % 5 == 0 ? '+' : '-');
        }

        text.AppendLine(axis.ToString().TrimEnd()).AppendLine(marks.ToString());
        foreach (var (label, start, end) in rows)
        {
            int from = (int)Math.Clamp((start - first) / unit, 0, columns);
            int to = (int)Math.Clamp((end - first + unit - 1) / unit, from, columns);
            var line = new StringBuilder(label.PadRight(width + 1)).Append(' ', from);
            if (end - start <= 1)
            {
                line.Append('|');
            }
            else
            {
                int length = Math.Max(2, to - from);
                line.Append('[').Append('=', length - 2).Append(')');
            }

            text.AppendLine(line.ToString());
        }

        return new LifetimeDiagram(text.ToString().TrimEnd());
    }

    private static string Label(long ticks, long origin, long unit) =>
        unit >= TimeSpan.TicksPerSecond
            ? new DateTime(ticks, DateTimeKind.Utc).ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : TimeSpan.FromTicks(ticks - origin).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static long Floor(long ticks, long step) => ticks - (((ticks % step) + step) % step);
}
