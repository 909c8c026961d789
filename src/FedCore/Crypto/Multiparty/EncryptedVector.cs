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
/// (c0, c1) ∈ R_{q_0}², N values each, all at one scale Δ. It holds no key material. Immutable.
///
/// It is kept packed, in two buffers: the c1 halves as <see cref="Masks"/> (what a member sends; FedCore/Rounds/README.md,
/// step 4) and the c0 halves in their rounded form (<see cref="RoundedPolynomial"/>: decryption only adds them), which a
/// member keeps. Both are unpacked one ciphertext at a time when used: a 10⁶-value update is 13 MB packed and would be
/// 16 MB more unpacked, and on a busy host fresh memory costs more than unpacking (see the README's benchmark notes).
/// Wire form (<see cref="ToBytes"/>): key id (32 bytes), length (uint32), scale (IEEE double), then per ciphertext c0
/// rounded and c1, N coefficients bit-packed at ⌈log2 q_0⌉ bits.
/// </summary>
public sealed class EncryptedVector
{
    private const string EncryptionDomain = "FedCore/CKKS/encryption/v1";
    internal const int FixedBodyLength = 32 + 4 + 8;
    private const int BodyStart = WireFormat.HeaderLength + FixedBodyLength;

    private readonly byte[] _c0; // per ciphertext, c0 rounded and packed: RoundedPolynomial.PackedLength bytes each

    private EncryptedVector(CkksParameters parameters, CiphertextMasks masks, byte[] c0, double scale)
    {
        Parameters = parameters;
        Masks = masks;
        _c0 = c0;
        Scale = scale;
    }

    public CkksParameters Parameters { get; }

    /// <summary>The c1 halves, not a copy: all the aggregator needs, and all a member sends of its sealed update.</summary>
    public CiphertextMasks Masks { get; }

    /// <summary>Identifier of the collective key it is encrypted under.</summary>
    public ReadOnlyMemory<byte> KeyId => Masks.KeyId;

    /// <summary>Number of real values carried.</summary>
    public int Length => Masks.Length;

    /// <summary>Δ: decrypted coefficients divided by this give the values.</summary>
    public double Scale { get; }

    public int ChunkCount => Masks.ChunkCount;

    /// <summary>Size of <see cref="ToBytes"/> in bytes.</summary>
    public long WireLength => BodyStart + ChunkCount * (long)PackedCiphertextLength(Parameters);

    internal void ReadC0(int chunk, Span<ulong> destination)
    {
        int length = RoundedPolynomial.PackedLength(Parameters);
        RoundedPolynomial.Read(_c0.AsSpan(chunk * length, length), Parameters, destination);
    }

    internal void ReadC1(int chunk, Span<ulong> destination) => Masks.ReadC1(chunk, destination);

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
        var builder = new Builder(parameters, key.KeyId.Span, values.Length, scale);
        var c0 = new ulong[n];
        var c1 = new ulong[n];
        var plaintext = new ulong[n];
        var chunkValues = new double[n];
        Modulus q0 = context.WireModulus;
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
            builder.Add(c0, c1);
        }
        Array.Clear(chunkValues);
        Array.Clear(plaintext);
        Array.Clear(c0);
        return builder.Finish();
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
        var builder = new Builder(Parameters, KeyId.Span, Length, scale);
        var c0 = new ulong[Parameters.RingDimension];
        var c1 = new ulong[Parameters.RingDimension];
        for (int chunk = 0; chunk < ChunkCount; chunk++)
        {
            ReadC0(chunk, c0);
            map(c0);
            ReadC1(chunk, c1);
            map(c1);
            builder.Add(c0, c1);
        }
        return builder.Finish();
    }

    /// <summary>The wire form: both halves, ciphertext by ciphertext (the class summary gives the layout).</summary>
    public byte[] ToBytes()
    {
        var writer = NewWriter(Parameters, KeyId.Span, Length, Scale);
        int c0Length = RoundedPolynomial.PackedLength(Parameters);
        for (int chunk = 0; chunk < ChunkCount; chunk++)
        {
            writer.WriteBytes(_c0.AsSpan(chunk * c0Length, c0Length));
            writer.WriteBytes(Masks.PackedC1(chunk));
        }
        return writer.ToArray();
    }

    public static EncryptedVector FromBytes(ReadOnlySpan<byte> data, CkksParameters parameters)
    {
        Validate(data, parameters);
        return Split(data, parameters);
    }

    /// <summary>Reads a wire form built and checked here (no second validation pass).</summary>
    internal static EncryptedVector Trusted(ReadOnlySpan<byte> wire, CkksParameters parameters) => Split(wire, parameters);

    /// <summary>The two halves of a wire form, each into a buffer of its own.</summary>
    private static EncryptedVector Split(ReadOnlySpan<byte> wire, CkksParameters parameters)
    {
        var keyId = wire.Slice(WireFormat.HeaderLength, 32);
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(wire[(WireFormat.HeaderLength + 32)..]);
        double scale = BinaryPrimitives.ReadDoubleLittleEndian(wire[(WireFormat.HeaderLength + 36)..]);
        int chunks = ChunksFor(parameters, length);
        int c0Length = RoundedPolynomial.PackedLength(parameters), c1Length = PackedPolynomialLength(parameters);
        var c0 = GC.AllocateUninitializedArray<byte>(chunks * c0Length);
        var masks = CiphertextMasks.NewWriter(parameters, keyId, length);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            int at = BodyStart + chunk * (c0Length + c1Length);
            wire.Slice(at, c0Length).CopyTo(c0.AsSpan(chunk * c0Length));
            masks.WriteBytes(wire.Slice(at + c0Length, c1Length));
        }
        return new EncryptedVector(parameters, CiphertextMasks.Trusted(masks.ToArray(), parameters), c0, scale);
    }

    /// <summary>
    /// Builds a vector one ciphertext at a time, straight into its two buffers: the masks as they will be sent, and the c0
    /// halves rounded and packed. Every byte of both is written, so neither is zeroed first.
    /// </summary>
    internal sealed class Builder
    {
        private readonly CkksParameters _parameters;
        private readonly WireWriter _masks;
        private readonly byte[] _c0;
        private readonly double _scale;
        private int _chunk;

        public Builder(CkksParameters parameters, ReadOnlySpan<byte> keyId, int length, double scale)
        {
            _parameters = parameters;
            _masks = CiphertextMasks.NewWriter(parameters, keyId, length);
            _c0 = GC.AllocateUninitializedArray<byte>(ChunksFor(parameters, length) * RoundedPolynomial.PackedLength(parameters));
            _scale = scale;
        }

        /// <summary>The next ciphertext; <paramref name="c0"/> is rounded in place.</summary>
        public void Add(Span<ulong> c0, ReadOnlySpan<ulong> c1)
        {
            int length = RoundedPolynomial.PackedLength(_parameters);
            RoundedPolynomial.Pack(_parameters, c0, _c0.AsSpan(_chunk++ * length, length));
            _masks.WritePacked(c1, _parameters.WireModulusBits);
        }

        public EncryptedVector Finish() => new(_parameters, CiphertextMasks.Trusted(_masks.ToArray(), _parameters), _c0, _scale);
    }

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
            int n = parameters.RingDimension;
            var builder = new EncryptedVector.Builder(parameters, first.KeyId.Span, first.Length, first.Scale);
            for (int chunk = 0; chunk < first.ChunkCount; chunk++)
                builder.Add(_c0!.Coefficients.AsSpan(chunk * n, n), _c1!.Coefficients.AsSpan(chunk * n, n)); // rounds the sum's c0 again
            ReturnArrays();
            return builder.Finish();
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
            _masks = CiphertextMasks.FromPolynomials(first.Masks, _c1!.Coefficients);
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
