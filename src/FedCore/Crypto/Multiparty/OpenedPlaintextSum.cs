namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A running sum of the members' parts of one opening (<see cref="OpenedPlaintext.Part"/>), added as they arrive, so the
/// aggregator holds one model-sized sum instead of every part (FedCore/Rounds/README.md, step 6b). Thread-safe; a part
/// not of the first one's opening is refused and changes nothing. The sum lives in an array rented from the shared pool
/// and goes back to it once the total is taken.
/// </summary>
public sealed class OpenedPlaintextSum
{
    private readonly Lock _lock = new();
    private PooledPolynomialSum? _sum;
    private OpenedPlaintext? _first;
    private OpenedPlaintext? _total;

    public int Count { get; private set; }

    public void Add(OpenedPlaintext part)
    {
        ArgumentNullException.ThrowIfNull(part);
        lock (_lock)
        {
            if (_total is not null)
                throw new InvalidOperationException("The total was already taken; no more parts can be added.");
            _first?.RequireSameOpening(part);
            _sum ??= new PooledPolynomialSum(part.ChunkCount, part.Parameters);
            _sum.Add(part.ReadChunk);
            _first ??= part;
            Count++;
        }
    }

    /// <summary>The opened plaintext: the sum of every part added; taken once, after which nothing more is added.</summary>
    public OpenedPlaintext Total()
    {
        lock (_lock)
        {
            if (_total is not null)
                return _total;
            if (_first is null)
                throw new InvalidOperationException("No parts to add.");
            _total = OpenedPlaintext.FromPolynomials(_first, _sum!.Coefficients);
            _sum.Return(secret: false); // every part was shown to the aggregator, and the total is what opens
            _first = null;
            return _total;
        }
    }
}
