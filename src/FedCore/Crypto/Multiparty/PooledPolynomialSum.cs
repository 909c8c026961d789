using System.Buffers;
using System.Runtime.CompilerServices;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The coefficient-wise sum mod q₀ of vectors of <c>chunks</c> polynomials, unpacked, in an array rented from the shared
/// pool: warm memory from one round to the next (a first touch of fresh memory costs ≈ 3 ms per MB on the reference
/// machine). Not thread-safe; its owners lock around it. <see cref="Return"/> gives the array back.
/// </summary>
internal sealed class PooledPolynomialSum
{
    private readonly int _chunks, _n;
    private readonly Modulus _q0;
    private readonly ulong[] _addend;
    private ulong[]? _sum;

    /// <summary>An empty sum of vectors of <paramref name="chunks"/> polynomials of <paramref name="parameters"/>' ring, mod its wire modulus.</summary>
    public PooledPolynomialSum(int chunks, CkksParameters parameters)
    {
        (_chunks, _n, _q0) = (chunks, parameters.RingDimension, parameters.Context.WireModulus);
        _sum = ArrayPool<ulong>.Shared.Rent(chunks * _n);
        Array.Clear(_sum, 0, chunks * _n);
        _addend = new ulong[_n];
    }

    /// <summary>The sum so far, chunk after chunk (valid until <see cref="Return"/>).</summary>
    public ulong[] Coefficients => _sum ?? throw new InvalidOperationException("The sum's array was given back.");

    /// <summary>Adds one vector, read polynomial by polynomial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadPolynomial read)
    {
        var sum = Coefficients;
        for (int chunk = 0; chunk < _chunks; chunk++)
        {
            read(chunk, _addend);
            RnsRing.AddInPlace(_q0, sum.AsSpan(chunk * _n, _n), _addend);
        }
    }

    /// <summary>Gives the array back to the pool, cleared first when the sum is secret.</summary>
    public void Return(bool secret)
    {
        if (_sum is null)
            return;
        ArrayPool<ulong>.Shared.Return(_sum, clearArray: secret);
        _sum = null;
        Array.Clear(_addend);
    }
}
