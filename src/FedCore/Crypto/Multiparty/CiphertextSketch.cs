using System.Runtime.CompilerServices;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A short, linear and binding digest of the masks (c1 halves) of an encrypted vector: with public random
/// polynomials a_j expanded from the vector's key id, sketch(c1) = 2^-64 · Σ_j a_j · c1_j ∈ R_{q_0} (kept in NTT form,
/// one polynomial, whatever the vector's length; the constant 2^-64 is what Montgomery products leave, and changes
/// nothing below).
///
/// Why: before a participant gives its decryption share it must know that the masks it is asked to decrypt are the
/// sum of the round's committed updates, not one participant's update (whose c0 the aggregator also holds). Every
/// participant signs its update's sketch; sketches add like the vectors do, so a participant checks
/// sketch(masks) = Σ signed sketches over the whole vector, without seeing any update.
/// Binding: masks c1' that pass but differ from the true sum differ by a nonzero kernel vector of [a_0 … a_{m−1}];
/// turning a share of c1' into a share of one update's c1 needs that difference, minus the other updates' masks,
/// to be short — an inhomogeneous ring-SIS instance over R_{q_0} (N = 4096, q_0 ≈ 2^61), far beyond lattice
/// reduction. The a_j depend on the key id, which no party controls alone, so none can be prepared in advance.
/// VerifiedAggregation.md (next to this file) gives the whole argument, with the commit-then-reveal step that keeps
/// a colluding participant from cancelling the others' masks.
/// Wire body: key id (32 bytes), length (uint32), one polynomial (N coefficients bit-packed at ⌈log2 q_0⌉ bits).
/// </summary>
public sealed class CiphertextSketch
{
    private const string Domain = "FedCore/CKKS/ciphertext-sketch/v1";
    private const int FixedBodyLength = 32 + 4;

    private readonly byte[] _keyId;
    private readonly ulong[] _sketch;

    private CiphertextSketch(CkksParameters parameters, byte[] keyId, int length, ulong[] sketch)
    {
        Parameters = parameters;
        _keyId = keyId;
        Length = length;
        _sketch = sketch;
    }

    public CkksParameters Parameters { get; }

    public ReadOnlyMemory<byte> KeyId => _keyId;

    /// <summary>Number of real values of the vector sketched.</summary>
    public int Length { get; }

    public static CiphertextSketch Of(EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return Compute(vector.Parameters, vector.KeyId.Span, vector.Length, vector.ReadC1);
    }

    public static CiphertextSketch Of(CiphertextMasks masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        return Compute(masks.Parameters, masks.KeyId.Span, masks.Length, masks.ReadC1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static CiphertextSketch Compute(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length, ReadPolynomial readMask)
    {
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        int n = parameters.RingDimension;
        var sketch = new ulong[n];
        var mask = new ulong[n];
        var a = new ulong[n];
        using var coefficients = new AesCtrRandom(keyId, Domain);
        int chunks = EncryptedVector.ChunksFor(parameters, length);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            readMask(chunk, mask);
            context.WireTransform.Forward(mask);
            // a_j is drawn directly in NTT form: uniform there is uniform in the ring.
            Sampling.Uniform(coefficients, q0, a);
            VectorArithmetic.MultiplyAccumulateMontgomery(q0, sketch, a, mask);
        }
        return new CiphertextSketch(parameters, keyId.ToArray(), length, sketch);
    }

    /// <summary>The sketch of the sum of the sketched vectors (same key, parameters and length).</summary>
    public static CiphertextSketch Sum(IEnumerable<CiphertextSketch> sketches)
    {
        ArgumentNullException.ThrowIfNull(sketches);
        CiphertextSketch? first = null;
        ulong[]? sum = null;
        foreach (CiphertextSketch s in sketches)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(sketches));
            if (first is null)
            {
                first = s;
                sum = (ulong[])s._sketch.Clone();
                continue;
            }
            if (s.Parameters != first.Parameters || !s._keyId.AsSpan().SequenceEqual(first._keyId) || s.Length != first.Length)
                throw new ArgumentException("Sketches of vectors of different keys, parameter sets or lengths cannot be added.", nameof(sketches));
            RnsRing.AddInPlace(first.Parameters.Context.WireModulus, sum, s._sketch);
        }
        return first is null
            ? throw new ArgumentException("No sketches to add.", nameof(sketches))
            : new CiphertextSketch(first.Parameters, first._keyId, first.Length, sum!);
    }

    /// <summary>True if both sketch the same masks (up to the binding argument above): same key, length and polynomial.</summary>
    public bool Matches(CiphertextSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.Parameters == Parameters && other.Length == Length
            && other._keyId.AsSpan().SequenceEqual(_keyId) && other._sketch.AsSpan().SequenceEqual(_sketch);
    }

    public byte[] ToBytes()
    {
        var writer = new WireWriter(WireKind.CiphertextSketch, Parameters, FixedBodyLength + EncryptedVector.PackedPolynomialLength(Parameters));
        writer.WriteBytes(_keyId);
        writer.WriteUInt32((uint)Length);
        writer.WritePacked(_sketch, Parameters.WireModulusBits);
        return writer.ToArray();
    }

    public static CiphertextSketch FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.CiphertextSketch, parameters);
        byte[] keyId = reader.ReadBytes(32, "key id").ToArray();
        int length = (int)EncryptedVector.ReadLength(ref reader);
        reader.RequireExactly(EncryptedVector.PackedPolynomialLength(parameters), "sketch polynomial");
        var sketch = new ulong[parameters.RingDimension];
        reader.ReadPacked(sketch, parameters.WireModulusBits, parameters.WireModulus, "sketch polynomial");
        return new CiphertextSketch(parameters, keyId, length, sketch);
    }

    /// <summary>Wire length of a sketch under <paramref name="parameters"/> (the same for every vector length).</summary>
    public static int WireLength(CkksParameters parameters) =>
        WireFormat.HeaderLength + FixedBodyLength + EncryptedVector.PackedPolynomialLength(parameters);
}
