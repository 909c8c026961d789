using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A real vector of any length encrypted under a collective public key: ⌈Length / N⌉ CKKS ciphertexts
/// (c0, c1) ∈ R_{q_0}², N values each, all at one scale Δ. This is what crosses a border and what the aggregator
/// adds; it holds no key material. Immutable.
///
/// It is kept in its wire form and unpacked one ciphertext at a time when used: a 10⁶-value update is 13 MB packed
/// and would be 16 MB more unpacked, and on a busy host fresh memory costs more than unpacking (see the README's
/// benchmark notes).
/// Wire body: key id (32 bytes), length (uint32), scale (IEEE double), then per ciphertext c0 in its rounded form
/// (<see cref="RoundedPolynomial"/>: decryption only adds it) and c1, N coefficients bit-packed at ⌈log2 q_0⌉ bits.
/// </summary>
public sealed class EncryptedVector
{
    private const string EncryptionDomain = "FedCore/CKKS/encryption/v1";
    internal const int FixedBodyLength = 32 + 4 + 8;
    private const int BodyStart = WireFormat.HeaderLength + FixedBodyLength;

    private readonly byte[] _wire;

    private EncryptedVector(CkksParameters parameters, byte[] wire)
    {
        Parameters = parameters;
        _wire = wire;
        Length = (int)BinaryPrimitives.ReadUInt32LittleEndian(wire.AsSpan(WireFormat.HeaderLength + 32));
        Scale = BinaryPrimitives.ReadDoubleLittleEndian(wire.AsSpan(WireFormat.HeaderLength + 36));
        ChunkCount = ChunksFor(parameters, Length);
    }

    public CkksParameters Parameters { get; }

    /// <summary>Identifier of the collective key it is encrypted under.</summary>
    public ReadOnlyMemory<byte> KeyId => _wire.AsMemory(WireFormat.HeaderLength, 32);

    /// <summary>Number of real values carried.</summary>
    public int Length { get; }

    /// <summary>Δ: decrypted coefficients divided by this give the values.</summary>
    public double Scale { get; }

    public int ChunkCount { get; }

    /// <summary>Size of <see cref="ToBytes"/> in bytes.</summary>
    public long WireLength => _wire.Length;

    /// <summary>The wire form itself, not a copy: for handing to a transport inside FedCore. Never modify it.</summary>
    internal byte[] WireBuffer => _wire;

    internal void ReadC0(int chunk, Span<ulong> destination) =>
        RoundedPolynomial.Read(_wire.AsSpan(C0Offset(chunk), RoundedPolynomial.PackedLength(Parameters)), Parameters, destination);

    internal void ReadC1(int chunk, Span<ulong> destination) =>
        BitPacking.Unpack(PackedC1(chunk), Parameters.WireModulusBits, ulong.MaxValue, destination, out _);

    /// <summary>c1 of one ciphertext as packed on the wire (what a decryption share depends on).</summary>
    internal ReadOnlySpan<byte> PackedC1(int chunk) => _wire.AsSpan(C1Offset(chunk), PackedPolynomialLength(Parameters));

    private int C0Offset(int chunk) => BodyStart + chunk * PackedCiphertextLength(Parameters);

    private int C1Offset(int chunk) => C0Offset(chunk) + RoundedPolynomial.PackedLength(Parameters);

    /// <summary>
    /// Encrypts <paramref name="values"/> under <paramref name="key"/> at the scale for <paramref name="bound"/>, the
    /// largest magnitude any slot of the eventual aggregate may reach (see <see cref="CkksParameters.ScaleForBound"/>).
    /// Every value must be finite and within ±bound. Randomness comes from the operating system.
    /// </summary>
    public static EncryptedVector Encrypt(CollectivePublicKey key, ReadOnlySpan<double> values, double bound) =>
        EncryptCore(key, new PlainValues(values), bound);

    /// <summary>
    /// Encrypts (weight·update₀, …, weight·updateₙ₋₁, weight) — a weighted update with its weight in the last slot —
    /// without materialising the weighted vector. With <paramref name="masks"/>, each ciphertext's message also carries
    /// this participant's pairwise masks, which cancel only in the sum over the round's participants.
    /// </summary>
    public static EncryptedVector EncryptWeighted(CollectivePublicKey key, ReadOnlySpan<float> update, double weight, double bound, PairwiseMasks? masks = null) =>
        EncryptCore(key, new WeightedValues(update, weight), bound, masks);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static EncryptedVector EncryptCore<TValues>(CollectivePublicKey key, TValues values, double bound, PairwiseMasks? masks = null)
        where TValues : IChunkedValues, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(key);
        CkksParameters parameters = key.Parameters;
        double scale = parameters.ScaleForBound(bound);
        if (values.Length == 0)
            throw new ArgumentException("Nothing to encrypt: the vector is empty.", nameof(values));

        CkksContext context = parameters.Context;
        int n = parameters.RingDimension;
        int chunks = ChunksFor(parameters, values.Length);
        var writer = NewWriter(parameters, key.KeyId.Span, values.Length, scale);
        var c0 = new ulong[n];
        var c1 = new ulong[n];
        var plaintext = new ulong[n];
        var chunkValues = new double[n];
        Modulus q0 = context.WireModulus;
        int bits = parameters.WireModulusBits;
        using var encryptor = new PublicKeyEncryptor(key.Prepared, context.Errors);
        using var random = AesCtrRandom.FromSystemEntropy(EncryptionDomain);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            int start = chunk * n, count = Math.Min(n, values.Length - start);
            Span<double> slice = chunkValues.AsSpan(0, count);
            values.Fill(start, slice);
            for (int i = 0; i < slice.Length; i++)
            {
                if (!double.IsFinite(slice[i]) || Math.Abs(slice[i]) > bound)
                    throw new ArgumentOutOfRangeException(nameof(values), slice[i], $"Value at index {start + i} is not a finite number within ±{bound}.");
            }
            // Encrypt zero at Q, switch to q_0, then add the message at q_0 (equivalent, and cheaper than encoding at Q).
            encryptor.EncryptZero(random, c0, c1);
            context.Encoder.Encode(slice, scale, q0, plaintext);
            RnsRing.AddInPlace(q0, c0, plaintext);
            masks?.AddTo(c0); // before rounding: the rounding error stays public post-processing (NoiseFlooding.md)
            RoundedPolynomial.Write(writer, parameters, c0);
            writer.WritePacked(c1, bits);
        }
        Array.Clear(chunkValues);
        Array.Clear(plaintext);
        return new EncryptedVector(parameters, writer.ToArray());
    }

    /// <summary>The encryption of the element-wise sum.</summary>
    public EncryptedVector Add(EncryptedVector other) => Sum([this, other]);

    /// <summary>The encryption of the element-wise sum of vectors of one key, length and scale (the aggregator's step).</summary>
    public static EncryptedVector Sum(IEnumerable<EncryptedVector> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        EncryptedVectorSum? sum = null;
        foreach (EncryptedVector v in vectors)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(vectors));
            sum ??= new EncryptedVectorSum();
            sum.Add(v);
        }
        return sum?.ToVector() ?? throw new ArgumentException("No vectors to add.", nameof(vectors));
    }

    /// <summary>
    /// The encryption of factor × values, exactly: both polynomials are multiplied by the integer. The values grow by
    /// |factor| and so does the noise; the bound the vectors were encrypted with must allow for the product.
    /// </summary>
    public EncryptedVector MultiplyByInteger(long factor)
    {
        Modulus q0 = Parameters.Context.WireModulus;
        ulong k = q0.FromSigned(factor);
        ulong kShoup = q0.ShoupPrecompute(k);
        return Map(Scale, polynomial =>
        {
            for (int j = 0; j < polynomial.Length; j++)
                polynomial[j] = q0.MultiplyShoup(polynomial[j], k, kShoup);
        });
    }

    /// <summary>
    /// The encryption of factor × values for a real factor. Without a further modulus to rescale by, the exact and
    /// noise-free way is to leave the ciphertext as it is and divide its scale by |factor| (negating it when factor &lt; 0);
    /// a zero factor gives an encryption of zero. Vectors of different scales cannot be added, so to form a weighted sum
    /// multiply by integers first (<see cref="MultiplyByInteger"/>) and by the real normaliser last.
    /// </summary>
    public EncryptedVector MultiplyByScalar(double factor)
    {
        if (!double.IsFinite(factor))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be finite.");
        if (factor == 0)
            return Map(Scale, polynomial => polynomial.Clear());
        double scale = Scale / Math.Abs(factor);
        if (!double.IsNormal(scale))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"Scale {Scale} / |{factor}| is not a usable number.");
        Modulus q0 = Parameters.Context.WireModulus;
        return Map(scale, polynomial =>
        {
            if (factor < 0)
                for (int j = 0; j < polynomial.Length; j++)
                    polynomial[j] = q0.Negate(polynomial[j]);
        });
    }

    private delegate void PolynomialMap(Span<ulong> polynomial);

    /// <summary>A vector of the same key and length at <paramref name="scale"/>, each polynomial passed through <paramref name="map"/>.</summary>
    private EncryptedVector Map(double scale, PolynomialMap map)
    {
        var writer = NewWriter(Parameters, KeyId.Span, Length, scale);
        var polynomial = new ulong[Parameters.RingDimension];
        for (int chunk = 0; chunk < ChunkCount; chunk++)
        {
            ReadC0(chunk, polynomial);
            map(polynomial);
            RoundedPolynomial.Write(writer, Parameters, polynomial);
            ReadC1(chunk, polynomial);
            map(polynomial);
            writer.WritePacked(polynomial, Parameters.WireModulusBits);
        }
        return new EncryptedVector(Parameters, writer.ToArray());
    }

    public byte[] ToBytes() => (byte[])_wire.Clone();

    public static EncryptedVector FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new EncryptedVector(parameters, data.ToArray());
    }

    /// <summary>Reads <paramref name="data"/> without copying it: the caller hands the array over and must not change it afterwards.</summary>
    internal static EncryptedVector Adopt(byte[] data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return new EncryptedVector(parameters, data);
    }

    /// <summary>Wraps a wire form built and checked here (no second validation pass).</summary>
    internal static EncryptedVector Trusted(byte[] wire, CkksParameters parameters) => new(parameters, wire);

    private static void Validate(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        var reader = new WireReader(data, WireKind.EncryptedVector, parameters);
        reader.ReadBytes(32, "key id");
        uint length = ReadLength(ref reader);
        double scale = reader.ReadDouble("scale");
        if (!double.IsNormal(scale) || scale < 0)
            throw reader.Fail("scale", $"{scale} is not a positive finite number");
        int chunks = ChunksFor(parameters, (int)length);
        reader.RequireExactly(chunks * (long)PackedCiphertextLength(parameters), "ciphertexts");
        var scratch = new ulong[parameters.RingDimension];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            RoundedPolynomial.Check(ref reader, parameters, scratch, $"ciphertext {chunk} c0");
            reader.ReadPacked(scratch, parameters.WireModulusBits, parameters.WireModulus, $"ciphertext {chunk} c1");
        }
    }

    /// <summary>Checks that exactly <paramref name="chunks"/> packed c1 polynomials remain, every coefficient below q_0.</summary>
    internal static void CheckMasks(ref WireReader reader, CkksParameters parameters, int chunks)
    {
        reader.RequireExactly(chunks * (long)PackedPolynomialLength(parameters), "masks");
        var scratch = new ulong[parameters.RingDimension];
        for (int chunk = 0; chunk < chunks; chunk++)
            reader.ReadPacked(scratch, parameters.WireModulusBits, parameters.WireModulus, $"ciphertext {chunk} c1");
    }

    internal static uint ReadLength(ref WireReader reader)
    {
        uint length = reader.ReadUInt32("length");
        if (length == 0 || length > int.MaxValue)
            throw reader.Fail("length", $"{length} values is outside 1..{int.MaxValue}");
        return length;
    }

    internal static int ChunksFor(CkksParameters parameters, int length) =>
        (int)((length + (long)parameters.RingDimension - 1) / parameters.RingDimension);

    internal static int PackedPolynomialLength(CkksParameters parameters) =>
        BitPacking.PackedLength(parameters.RingDimension, parameters.WireModulusBits);

    private static int PackedCiphertextLength(CkksParameters parameters) =>
        RoundedPolynomial.PackedLength(parameters) + PackedPolynomialLength(parameters);

    /// <summary>A writer positioned after the fixed body fields, sized for ⌈length/N⌉ ciphertexts.</summary>
    internal static WireWriter NewWriter(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length, double scale)
    {
        long body = FixedBodyLength + ChunksFor(parameters, length) * (long)PackedCiphertextLength(parameters);
        var writer = new WireWriter(WireKind.EncryptedVector, parameters, body);
        writer.WriteBytes(keyId);
        writer.WriteUInt32((uint)length);
        writer.WriteDouble(scale);
        return writer;
    }

    internal void RequireCompatible(EncryptedVector other)
    {
        if (other.Parameters != Parameters)
            throw new ArgumentException($"Cannot combine vectors of parameter sets {Parameters.Name} and {other.Parameters.Name}.");
        if (!other.KeyId.Span.SequenceEqual(KeyId.Span))
            throw new ArgumentException("Cannot combine vectors encrypted under different collective keys.");
        if (other.Length != Length)
            throw new ArgumentException($"Cannot combine vectors of lengths {Length} and {other.Length}.");
        if (other.Scale != Scale)
            throw new ArgumentException($"Cannot add vectors of scales {Scale} and {other.Scale}: they were encrypted with different bounds or multiplied by different scalars.");
    }

    /// <summary>SHA-256 of the whole wire form: what a participant's signed commitment names.</summary>
    internal byte[] Sha256() => SHA256.HashData(_wire);

    private interface IChunkedValues
    {
        int Length { get; }

        void Fill(int start, Span<double> destination);
    }

    private readonly ref struct PlainValues(ReadOnlySpan<double> values) : IChunkedValues
    {
        private readonly ReadOnlySpan<double> _values = values;

        public int Length => _values.Length;

        public void Fill(int start, Span<double> destination) => _values.Slice(start, destination.Length).CopyTo(destination);
    }

    private readonly ref struct WeightedValues(ReadOnlySpan<float> update, double weight) : IChunkedValues
    {
        private readonly ReadOnlySpan<float> _update = update;

        public int Length => _update.Length + 1;

        public void Fill(int start, Span<double> destination)
        {
            for (int i = 0; i < destination.Length; i++)
                destination[i] = start + i < _update.Length ? weight * _update[start + i] : weight;
        }
    }
}

/// <summary>
/// A running sum of encrypted vectors of one key, length and scale. <see cref="Add"/> is thread-safe; a vector that
/// does not match the first is refused and changes nothing. The sum is kept unpacked in arrays rented from the shared
/// pool (16 MB for 10⁶ values: warm memory from one round to the next) and packed once, by <see cref="ToVector"/>.
/// </summary>
public sealed class EncryptedVectorSum
{
    private readonly Lock _lock = new();
    private PooledPolynomialSum? _c0, _c1, _shares;
    private readonly HashSet<Guid> _shareIds = [];
    private EncryptedVector? _first;
    private CiphertextMasks? _masks;
    private bool _closed;

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(EncryptedVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        lock (_lock)
        {
            if (_closed)
                throw new InvalidOperationException("The sum was already taken; start a new one.");
            _first?.RequireCompatible(vector);
            _c0 ??= new PooledPolynomialSum(vector.ChunkCount, vector.Parameters);
            _c1 ??= new PooledPolynomialSum(vector.ChunkCount, vector.Parameters);
            _c0.Add(vector.ReadC0);
            _c1.Add(vector.ReadC1);
            _first ??= vector;
            Count++;
        }
    }

    /// <summary>The encrypted sum; no more vectors can be added afterwards.</summary>
    public EncryptedVector ToVector()
    {
        lock (_lock)
        {
            var first = Close();
            CkksParameters parameters = first.Parameters;
            int n = parameters.RingDimension, bits = parameters.WireModulusBits;
            var writer = EncryptedVector.NewWriter(parameters, first.KeyId.Span, first.Length, first.Scale);
            for (int chunk = 0; chunk < first.ChunkCount; chunk++)
            {
                RoundedPolynomial.Write(writer, parameters, _c0!.Coefficients.AsSpan(chunk * n, n)); // rounds the sum's c0 again
                writer.WritePacked(_c1!.Coefficients.AsSpan(chunk * n, n), bits);
            }
            ReturnArrays();
            return EncryptedVector.Trusted(writer.ToArray(), parameters);
        }
    }

    /// <summary>
    /// The masks (c1 halves) of the sum, for the participants to make their decryption shares; no more vectors can be
    /// added afterwards. The c0 halves stay here, unpacked, for <see cref="Open"/>.
    /// </summary>
    public CiphertextMasks Masks()
    {
        lock (_lock)
        {
            var first = Close();
            _masks = CiphertextMasks.FromPolynomials(first, _c1!.Coefficients);
            return _masks;
        }
    }

    /// <summary>
    /// Decrypts the sum from one share of its <see cref="Masks"/> by each participant of <paramref name="key"/>, decoding
    /// the first head.Length values into <paramref name="head"/> and the rest into <paramref name="tail"/>.
    /// </summary>
    public void Open(CollectivePublicKey key, IEnumerable<DecryptionShare> shares, Span<double> head, Span<double> tail)
    {
        ArgumentNullException.ThrowIfNull(shares);
        foreach (DecryptionShare share in shares)
            AddShare(key, share);
        Open(key, head, tail);
    }

    /// <summary>
    /// Adds one participant's decryption share of the <see cref="Masks"/> into a running sum of shares (they combine by
    /// addition, so the aggregator never holds more than one at a time). Refused, changing nothing, unless the share is for
    /// these masks and from a participant of <paramref name="key"/> that has not given one yet. Thread-safe.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddShare(CollectivePublicKey key, DecryptionShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        lock (_lock)
        {
            RequireOpenable(key);
            if (!key.ShareIds.Contains(share.ShareId))
                throw new ArgumentException($"Share from {share.ShareId}, who is not a participant of this key.", nameof(share));
            if (_shareIds.Contains(share.ShareId))
                throw new ArgumentException($"Participant {share.ShareId} gave more than one share.", nameof(share));
            if (share.Parameters != key.Parameters || !share.KeyId.Span.SequenceEqual(key.KeyId.Span))
                throw new ArgumentException($"Share from {share.ShareId} was made for another key.", nameof(share));
            if (!share.VectorDigest.Span.SequenceEqual(_masks!.Digest.Span) || share.Length != _first!.Length)
                throw new ArgumentException($"Share from {share.ShareId} decrypts a different vector.", nameof(share));
            _shares ??= new PooledPolynomialSum(_first.ChunkCount, _first.Parameters);
            _shares.Add(share.ReadChunk);
            _shareIds.Add(share.ShareId);
        }
    }

    /// <summary>Decrypts the sum once every participant of <paramref name="key"/> has added its share (<see cref="AddShare"/>).</summary>
    public void Open(CollectivePublicKey key, Span<double> head, Span<double> tail) => Opening(key).Decode(head, tail);

    /// <summary>
    /// The sum's plaintext before decoding (c0 + Σ shares per ciphertext), once every participant of <paramref name="key"/>
    /// has added its share: what the members check before they take its values (FedCore/Rounds/README.md, step 7).
    /// </summary>
    public OpenedPlaintext Opening(CollectivePublicKey key)
    {
        lock (_lock)
        {
            RequireOpenable(key);
            var missing = key.ShareIds.Where(id => !_shareIds.Contains(id)).ToList();
            if (missing.Count > 0)
                throw new ArgumentException($"Missing decryption shares from {missing.Count} participant(s): {string.Join(", ", missing)}. " +
                    "Every participant of the key must contribute; otherwise re-key without the absent ones.", nameof(key));
            int coefficients = _first!.ChunkCount * _first.Parameters.RingDimension;
            Modulus q0 = _first.Parameters.Context.WireModulus;
            RnsRing.AddInPlace(q0, _c0!.Coefficients.AsSpan(0, coefficients), _shares!.Coefficients.AsSpan(0, coefficients));
            var opened = OpenedPlaintext.FromPolynomials(_first, _c0.Coefficients.AsSpan(0, coefficients));
            ReturnArrays();
            return opened;
        }
    }

    private void RequireOpenable(CollectivePublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_masks is null || _c0 is null)
            throw new InvalidOperationException("Open needs the masks to have been taken (and the sum not opened already).");
        if (!_masks.KeyId.Span.SequenceEqual(key.KeyId.Span) || _masks.Parameters != key.Parameters)
            throw new ArgumentException("The sum was encrypted under a different collective key.", nameof(key));
    }

    private EncryptedVector Close()
    {
        if (_first is null)
            throw new InvalidOperationException("Nothing was added.");
        if (_closed)
            throw new InvalidOperationException("The sum was already taken.");
        _closed = true;
        return _first;
    }

    private void ReturnArrays()
    {
        foreach (var sum in (PooledPolynomialSum?[])[_c0, _c1, _shares])
            sum?.Return(secret: true); // share sums are as secret as the shares
        _c0 = _c1 = _shares = null;
    }
}
