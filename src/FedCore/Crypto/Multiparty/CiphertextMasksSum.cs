using System.Buffers;
using System.Runtime.CompilerServices;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A running sum of the masks (c1 halves) of encrypted vectors of one key, length and scale: all an aggregator needs when
/// every member opens its own c0 inside its part (FedCore/Rounds/README.md, steps 5–6b), so no c0 is added. Thread-safe;
/// a vector that does not match the first is refused and changes nothing. The sum lives in an array rented from the
/// shared pool and goes back to it once the masks are taken, so the next round's sum reuses warm memory.
/// </summary>
public sealed class CiphertextMasksSum
{
    private readonly Lock _lock = new();
    private ulong[]? _c1;
    private EncryptedVector? _first;
    private CiphertextMasks? _masks;

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        lock (_lock)
        {
            if (_masks is not null)
                throw new InvalidOperationException("The masks were already taken; no more vectors can be added.");
            if (_first is null)
            {
                int coefficients = vector.ChunkCount * vector.Parameters.RingDimension;
                _c1 = ArrayPool<ulong>.Shared.Rent(coefficients);
                Array.Clear(_c1, 0, coefficients);
            }
            else
            {
                _first.RequireCompatible(vector);
            }
            Modulus q0 = vector.Parameters.Context.WireModulus;
            int n = vector.Parameters.RingDimension;
            var addend = new ulong[n];
            for (int chunk = 0; chunk < vector.ChunkCount; chunk++)
            {
                vector.ReadC1(chunk, addend);
                RnsRing.AddInPlace(q0, _c1.AsSpan(chunk * n, n), addend);
            }
            _first ??= vector;
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
            _masks = CiphertextMasks.FromPolynomials(_first, _c1!);
            ArrayPool<ulong>.Shared.Return(_c1!);
            _c1 = null;
            _first = null; // its wire form (13 MB per 10⁶ values) is no longer needed
            return _masks;
        }
    }
}
