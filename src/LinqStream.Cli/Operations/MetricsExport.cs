using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace LinqStream.Cli.Operations;

/// <summary>Starts OpenTelemetry's exporters for <c>--metrics</c>: they read the instruments of the meter <see cref="JobMetrics.MeterName"/>.</summary>
internal static class MetricsExport
{
    /// <summary>The OTLP export interval: short, since a job is watched while it runs.</summary>
    public const int OtlpIntervalMilliseconds = 5000;

    /// <returns>The provider (dispose it to stop the listeners), or null when there is no target.</returns>
    public static MeterProvider? Start(IReadOnlyList<MetricsTarget> targets)
    {
        if (targets.Count == 0)
        {
            return null;
        }

        var builder = Sdk.CreateMeterProviderBuilder().AddMeter(JobMetrics.MeterName);
        foreach (var target in targets)
        {
            if (target.Kind == "prometheus")
            {
                builder.AddPrometheusHttpListener(options =>
                {
                    options.Host = target.Address.Host;
                    options.Port = target.Address.Port;
                });
            }
            else
            {
                builder.AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = target.Address;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = OtlpIntervalMilliseconds;
                });
            }
        }

        return builder.Build();
    }
}
