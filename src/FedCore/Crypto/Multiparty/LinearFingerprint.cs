using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A short, linear fingerprint of a long vector of residues, drawn against a challenge fixed only after the vector:
/// the vector (v₀ … v_{D−1}) mod q is read as the polynomial F(y) = Σₖ vₖ·y^{D−1−k} and evaluated at
/// <see cref="Points"/> points derived from the challenge, for each modulus it lives under.
///
/// Why: a participant must know that what it is asked to decrypt is the sum of the parts the
/// round's participants committed to, without receiving every part. Fingerprints add like the vectors do, so it checks
/// fingerprint(sum) = Σ signed fingerprints of the parts. Two different vectors of D coefficients agree at a random
/// point with probability at most (D−1)/q (Schwartz–Zippel), so a forged sum passes all four points with probability
/// at most ((D−1)/q)⁴ — below 2⁻¹⁴⁸ for 10⁷ coefficients under q₀ ≈ 2⁶¹ — provided the challenge was fixed after the
/// vector (it hashes the vector's digest; see FedCore/Rounds/README.md). A fingerprint reveals nothing the holder of
/// the vector does not already know: it is a public function of it.
///
/// Wire body: challenge (32 bytes), coefficient count D (uint32), modulus count (uint32), then Points values per
/// modulus (uint64 each, below that modulus).
/// </summary>
public sealed class LinearFingerprint
{
    /// <summary>Evaluation points per modulus.</summary>
    public const int Points = 4;

    private const string PointDomain = "FedCore/linear-fingerprint/points/v1";
    private const int FixedBodyLength = 32 + 4 + 4;

    private readonly byte[] _challenge;
    private readonly ulong[] _values; // Points per modulus, modulus by modulus

    private LinearFingerprint(CkksParameters parameters, byte[] challenge, long coefficients, ulong[] values)
    {
        Parameters = parameters;
        _challenge = challenge;
        Coefficients = coefficients;
        _values = values;
    }

    public CkksParameters Parameters { get; }

    /// <summary>The challenge the points were drawn from.</summary>
    public ReadOnlySpan<byte> Challenge => _challenge;

    /// <summary>D: how many coefficients per modulus were fingerprinted.</summary>
    public long Coefficients { get; }

    /// <summary>Number of moduli fingerprinted (1: everything fingerprinted lives under q₀; the wire format allows more).</summary>
    public int ModulusCount => _values.Length / Points;

    /// <summary>The fingerprint of the masks (c1 halves) of an encrypted vector, over q₀.</summary>
    public static LinearFingerprint OfMasks(EncryptedVector vector, ReadOnlySpan<byte> challenge)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return OfChunks(vector.Parameters, challenge, vector.ChunkCount, vector.ReadC1);
    }

    public static LinearFingerprint OfMasks(CiphertextMasks masks, ReadOnlySpan<byte> challenge)
    {
        ArgumentNullException.ThrowIfNull(masks);
        return OfChunks(masks.Parameters, challenge, masks.ChunkCount, masks.ReadC1);
    }

    /// <summary>The fingerprint of an opened plaintext (c0 + Σ shares per ciphertext), or of one member's part of it, over q₀.</summary>
    public static LinearFingerprint OfOpening(OpenedPlaintext opened, ReadOnlySpan<byte> challenge)
    {
        ArgumentNullException.ThrowIfNull(opened);
        return OfChunks(opened.Parameters, challenge, opened.ChunkCount, opened.ReadChunk);
    }

    private static LinearFingerprint OfChunks(CkksParameters parameters, ReadOnlySpan<byte> challenge, int chunks, ReadPolynomial read)
    {
        RequireChallenge(challenge);
        Modulus q0 = parameters.Context.WireModulus;
        var points = DrawPoints(challenge, [q0]);
        var chunk = new ulong[parameters.RingDimension];
        ulong[] values;
        if (VectorArithmetic.Use512 && parameters.RingDimension % Lanes == 0)
        {
            var horner = new LaneHorner(q0, points);
            for (int j = 0; j < chunks; j++)
            {
                read(j, chunk);
                horner.Add(chunk);
            }
            values = horner.Values();
        }
        else
        {
            values = new ulong[Points];
            for (int j = 0; j < chunks; j++)
            {
                read(j, chunk);
                Horner(q0, points, values, chunk);
            }
            values = Reduce(q0, values);
        }
        Array.Clear(chunk);
        return new LinearFingerprint(parameters, challenge.ToArray(), (long)chunks * parameters.RingDimension, values);
    }

    private const int Lanes = 8;

    /// <summary>
    /// <see cref="Horner"/> eight coefficients at a time, the same value: lane l takes coefficients l, l + 8, l + 16, … by
    /// Horner in y⁸, and F(y) = Σ_l A_l·y^{7−l}, since coefficient 8m + l carries y^{D−1−8m−l} = (y⁸)^{M−1−m}·y^{7−l}
    /// (D = 8M). The scalar chain waits on one multiplication after another; the lanes do not.
    /// </summary>
    private sealed class LaneHorner
    {
        private readonly Modulus _q;
        private readonly ulong[] _points; // [y, y'] per point
        private readonly Vector512<ulong>[] _step = new Vector512<ulong>[Points], _stepShoup = new Vector512<ulong>[Points];
        private readonly Vector512<ulong>[] _accumulators = new Vector512<ulong>[Points]; // each lane below 3q

        public LaneHorner(Modulus q, ulong[] points)
        {
            _q = q;
            _points = points;
            for (int i = 0; i < Points; i++)
            {
                ulong y8 = points[2 * i];
                for (int k = 0; k < 3; k++)
                    y8 = q.Multiply(y8, y8);
                _step[i] = Vector512.Create(y8);
                _stepShoup[i] = Vector512.Create(q.ShoupPrecompute(y8));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(ReadOnlySpan<ulong> coefficients)
        {
            Vector512<ulong> q = Vector512.Create(_q.Value);
            Vector512<ulong> y0 = _step[0], y1 = _step[1], y2 = _step[2], y3 = _step[3];
            Vector512<ulong> s0 = _stepShoup[0], s1 = _stepShoup[1], s2 = _stepShoup[2], s3 = _stepShoup[3];
            Vector512<ulong> h0 = Vector512.ShiftRightLogical(s0, 32), h1 = Vector512.ShiftRightLogical(s1, 32);
            Vector512<ulong> h2 = Vector512.ShiftRightLogical(s2, 32), h3 = Vector512.ShiftRightLogical(s3, 32);
            Vector512<ulong> a0 = _accumulators[0], a1 = _accumulators[1], a2 = _accumulators[2], a3 = _accumulators[3];
            for (int j = 0; j < coefficients.Length; j += Lanes)
            {
                Vector512<ulong> v = Vector512.Create(coefficients.Slice(j, Lanes));
                // Lazy products are below 2q for any 64-bit input; adding v < q keeps each lane below 3q < 2⁶⁴.
                a0 = VectorArithmetic.MultiplyShoupLazy(a0, y0, s0, h0, q) + v;
                a1 = VectorArithmetic.MultiplyShoupLazy(a1, y1, s1, h1, q) + v;
                a2 = VectorArithmetic.MultiplyShoupLazy(a2, y2, s2, h2, q) + v;
                a3 = VectorArithmetic.MultiplyShoupLazy(a3, y3, s3, h3, q) + v;
            }
            (_accumulators[0], _accumulators[1], _accumulators[2], _accumulators[3]) = (a0, a1, a2, a3);
        }

        /// <summary>F at each point, reduced: the lanes combined by the powers y^{7−l}.</summary>
        public ulong[] Values()
        {
            var values = new ulong[Points];
            for (int i = 0; i < Points; i++)
            {
                ulong y = _points[2 * i], value = 0;
                for (int lane = 0; lane < Lanes; lane++)
                    value = _q.Add(_q.Multiply(value, y), _q.Reduce(_accumulators[i].GetElement(lane)));
                values[i] = value;
            }
            return values;
        }
    }

    /// <summary>Per modulus, Points nonzero points and their Shoup companions: [y₀, y₀', y₁, y₁', …].</summary>
    private static ulong[] DrawPoints(ReadOnlySpan<byte> challenge, IReadOnlyList<Modulus> moduli)
    {
        var points = new ulong[moduli.Count * 2 * Points];
        using var random = new AesCtrRandom(challenge, PointDomain);
        Span<ulong> one = stackalloc ulong[1];
        for (int m = 0; m < moduli.Count; m++)
        {
            for (int i = 0; i < Points; i++)
            {
                do
                    Sampling.Uniform(random, moduli[m], one);
                while (one[0] == 0);
                points[(m * Points + i) * 2] = one[0];
                points[(m * Points + i) * 2 + 1] = moduli[m].ShoupPrecompute(one[0]);
            }
        }
        return points;
    }

    /// <summary>acc ← acc·y + v for each coefficient, four independent chains at once; accumulators stay below 3q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Horner(Modulus q, ReadOnlySpan<ulong> points, Span<ulong> accumulators, ReadOnlySpan<ulong> coefficients)
    {
        ulong y0 = points[0], s0 = points[1], y1 = points[2], s1 = points[3], y2 = points[4], s2 = points[5], y3 = points[6], s3 = points[7];
        ulong a0 = accumulators[0], a1 = accumulators[1], a2 = accumulators[2], a3 = accumulators[3];
        foreach (ulong v in coefficients)
        {
            // MultiplyShoupLazy takes any 64-bit input and returns below 2q; adding v < q keeps each below 3q < 2⁶⁴.
            a0 = q.MultiplyShoupLazy(a0, y0, s0) + v;
            a1 = q.MultiplyShoupLazy(a1, y1, s1) + v;
            a2 = q.MultiplyShoupLazy(a2, y2, s2) + v;
            a3 = q.MultiplyShoupLazy(a3, y3, s3) + v;
        }
        accumulators[0] = a0;
        accumulators[1] = a1;
        accumulators[2] = a2;
        accumulators[3] = a3;
    }

    private static ulong[] Reduce(Modulus q, ulong[] accumulators)
    {
        for (int i = 0; i < accumulators.Length; i++)
            accumulators[i] = q.Reduce(accumulators[i]);
        return accumulators;
    }

    /// <summary>The fingerprint of the sum of the fingerprinted vectors (same parameters, challenge and shape).</summary>
    public static LinearFingerprint Sum(IEnumerable<LinearFingerprint> fingerprints)
    {
        ArgumentNullException.ThrowIfNull(fingerprints);
        LinearFingerprint? first = null;
        ulong[]? sum = null;
        foreach (LinearFingerprint f in fingerprints)
        {
            ArgumentNullException.ThrowIfNull(f, nameof(fingerprints));
            if (first is null)
            {
                first = f;
                sum = (ulong[])f._values.Clone();
                continue;
            }
            if (!first.SameShape(f))
                throw new ArgumentException("Fingerprints of different parameter sets, challenges or shapes cannot be added.", nameof(fingerprints));
            IReadOnlyList<Modulus> moduli = first.Parameters.Context.Ring.Moduli;
            for (int i = 0; i < sum!.Length; i++)
                sum[i] = moduli[i / Points].Add(sum[i], f._values[i]);
        }
        return first is null
            ? throw new ArgumentException("No fingerprints to add.", nameof(fingerprints))
            : new LinearFingerprint(first.Parameters, first._challenge, first.Coefficients, sum!);
    }

    /// <summary>True if both fingerprint the same vector (up to the bound above): same challenge, shape and values.</summary>
    public bool Matches(LinearFingerprint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return SameShape(other) && other._values.AsSpan().SequenceEqual(_values);
    }

    private bool SameShape(LinearFingerprint other) =>
        other.Parameters == Parameters && other.Coefficients == Coefficients && other._values.Length == _values.Length
        && other._challenge.AsSpan().SequenceEqual(_challenge);

    public byte[] ToBytes()
    {
        var writer = new WireWriter(WireKind.LinearFingerprint, Parameters, FixedBodyLength + 8L * _values.Length);
        writer.WriteBytes(_challenge);
        writer.WriteUInt32((uint)Coefficients);
        writer.WriteUInt32((uint)ModulusCount);
        Span<byte> word = stackalloc byte[8];
        foreach (ulong v in _values)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(word, v);
            writer.WriteBytes(word);
        }
        return writer.ToArray();
    }

    public static LinearFingerprint FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.LinearFingerprint, parameters);
        byte[] challenge = reader.ReadBytes(32, "challenge").ToArray();
        uint coefficients = reader.ReadUInt32("coefficient count");
        if (coefficients == 0)
            throw reader.Fail("coefficient count", "a fingerprint covers at least one coefficient");
        uint moduli = reader.ReadUInt32("modulus count");
        IReadOnlyList<Modulus> chain = parameters.Context.Ring.Moduli;
        if (moduli == 0 || moduli > chain.Count)
            throw reader.Fail("modulus count", $"{moduli} is outside 1..{chain.Count}");
        reader.RequireExactly(8L * Points * moduli, "values");
        var values = new ulong[Points * moduli];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt64LittleEndian(reader.ReadBytes(8, $"value {i}"));
            if (values[i] >= chain[i / Points].Value)
                throw reader.Fail($"value {i}", $"{values[i]} is not below q{i / Points}");
        }
        return new LinearFingerprint(parameters, challenge, coefficients, values);
    }

    private static void RequireChallenge(ReadOnlySpan<byte> challenge)
    {
        if (challenge.Length != 32)
            throw new ArgumentException($"A challenge has 32 bytes; got {challenge.Length}.", nameof(challenge));
    }
}
