using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LinqStream.Orleans;

/// <summary>Adds LinqStream to an Orleans silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Lets the silo run LinqStream jobs: registers the job definitions, the job registry in Redis and a supervisor that re-activates
    /// running jobs whose silo died (on another silo, from their last checkpoint).
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets the Redis server and adds the job definitions (the same on every silo).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">No Redis server was given.</exception>
    public static ISiloBuilder AddLinqStream(this ISiloBuilder builder, Action<LinqStreamSiloOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new LinqStreamSiloOptions();
        configure(options);
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            throw new ArgumentException("AddLinqStream needs the Redis server that holds the jobs and their checkpoints: set options.Redis (for example \"127.0.0.1:6379\").", nameof(configure));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.SuperviseInterval, TimeSpan.Zero, nameof(configure));
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<JobRegistry>();
        builder.Services.AddSingleton<Channels.ChannelHub>(); // the receivers of the cross-silo channels on this silo
        builder.Services.AddHostedService<JobSupervisor>();
        return builder;
    }
}
