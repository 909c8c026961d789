using Federation.Silo.Hosting;

namespace Federation.Silo.Grains;

/// <summary>At most a fixed number of calls at work at once; the others wait for a turn.</summary>
public class Turns(int count) : IDisposable
{
    private readonly SemaphoreSlim _turns = new(count, count);

    /// <summary>Runs <paramref name="work"/> in a turn, waiting for one if all are taken.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        await _turns.WaitAsync();
        try
        {
            return await work();
        }
        finally
        {
            _turns.Release();
        }
    }

    /// <inheritdoc cref="RunAsync{T}"/>
    public Task RunAsync(Func<Task> work) => RunAsync(async () => { await work(); return true; });

    public void Dispose()
    {
        _turns.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The silo's turns for its participants' heavy local work (<see cref="FederationSiloOptions.ConcurrentParticipantWork"/>):
/// at most that many of them train, seal, check an aggregate, decrypt, step their model chain or score at once; the
/// others wait. Each needs tens of MB while it works, and a silo hosting many organisations (or the benchmark's simulated
/// ones) would otherwise hold them all at once on cores that run only a few. A participant holds a turn only for its own
/// work and calls no other participant meanwhile, so waiting cannot deadlock.
/// </summary>
public sealed class ParticipantWorkSlots(FederationSiloOptions options) : Turns(options.ConcurrentParticipantWork);
