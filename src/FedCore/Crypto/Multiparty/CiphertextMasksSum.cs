namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A running sum of the masks (c1 halves) of encrypted vectors of one key and length: all an aggregator needs, and all
/// it is sent, since every member opens its own c0 inside its part (FedCore/Rounds/README.md, steps 4–6b). Thread-safe;
/// masks that do not match the first are refused and change nothing. The sum lives in an array rented from the
/// shared pool and goes back to it once the masks are taken, so the next round's sum reuses warm memory.
/// </summary>
public sealed class CiphertextMasksSum
{
    private readonly Lock _lock = new();
    private PooledPolynomialSum? _c1;
    private CiphertextMasks? _first;
    private CiphertextMasks? _masks;

    public int Count { get; private set; }

    public void Add(CiphertextMasks masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        lock (_lock)
        {
            if (_masks is not null)
                throw new InvalidOperationException("The masks were already taken; no more vectors can be added.");
            _first?.RequireSameShape(masks);
            _c1 ??= new PooledPolynomialSum(masks.ChunkCount, masks.Parameters);
            _c1.Add(masks.ReadC1);
            _first ??= masks;
            Count++;
        }
    }

    /// <summary>The masks of the sum; taken once, after which nothing more is added.</summary>
    public CiphertextMasks Masks()
    {
        lock (_lock)
        {
            if (_masks is not null)
                return _masks;
            if (_first is null)
                throw new InvalidOperationException("Nothing was added.");
            _masks = CiphertextMasks.FromPolynomials(_first, _c1!.Coefficients);
            _c1.Return(secret: false); // the masks are shown to every member
            _first = null; // its wire form (7.5 MB per 10⁶ values) is no longer needed
            return _masks;
        }
    }
}
