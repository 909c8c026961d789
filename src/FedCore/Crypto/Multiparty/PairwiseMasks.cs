using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Rlwe;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// A participant's ephemeral ECDH P-256 key for one round's pairwise masks. The private half is kept only until the
/// participant has sealed its update; the public half (65-byte uncompressed point) travels signed.
/// </summary>
public sealed class MaskingKeyPair : IDisposable
{
    public const int PublicKeyLength = 65;

    private readonly ECDiffieHellman _key;

    private MaskingKeyPair(ECDiffieHellman key) => _key = key;

    public static MaskingKeyPair Generate() => new(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>From the PKCS#8 bytes of <see cref="ExportPrivateKey"/> (the owner's own storage).</summary>
    public static MaskingKeyPair Import(byte[] pkcs8)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            if (key.KeySize != 256)
                throw new CryptographicException($"a {key.KeySize}-bit key");
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new ArgumentException($"The stored masking key is not a P-256 private key ({e.Message}).", nameof(pkcs8), e);
        }
        return new MaskingKeyPair(key);
    }

    /// <summary>For the owner's storage only.</summary>
    public byte[] ExportPrivateKey() => _key.ExportPkcs8PrivateKey();

    /// <summary>The uncompressed point 0x04 ‖ X ‖ Y.</summary>
    public byte[] PublicKey
    {
        get
        {
            ECParameters p = _key.ExportParameters(includePrivateParameters: false);
            return [0x04, .. p.Q.X!, .. p.Q.Y!];
        }
    }

    /// <summary>Refused (an <see cref="ArgumentException"/> naming <paramref name="peer"/>) unless <paramref name="publicKey"/> is an uncompressed point of P-256.</summary>
    public static void RequirePublicKey(ReadOnlySpan<byte> publicKey, string peer)
    {
        using var _ = PeerKey(publicKey, peer);
    }

    /// <summary>The raw ECDH secret (the shared point's X) with a peer; refused unless the peer's key is a point of P-256.</summary>
    internal byte[] AgreeWith(ReadOnlySpan<byte> peerPublicKey, string peer)
    {
        using var peerKey = PeerKey(peerPublicKey, peer);
        try
        {
            using var peerPublic = peerKey.PublicKey; // a new object holding native handles on every read: left to the finalizer otherwise
            return _key.DeriveRawSecretAgreement(peerPublic);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"No ECDH secret with the masking key of {peer} ({e.Message}).", e);
        }
    }

    private static ECDiffieHellman PeerKey(ReadOnlySpan<byte> publicKey, string peer)
    {
        if (publicKey.Length != PublicKeyLength || publicKey[0] != 0x04)
            throw new ArgumentException($"The masking key of {peer} is not an uncompressed P-256 point ({publicKey.Length} bytes).");
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = publicKey[1..33].ToArray(), Y = publicKey[33..].ToArray() },
        };
        try
        {
            return ECDiffieHellman.Create(parameters); // the platform checks the point lies on the curve
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The masking key of {peer} is not a point of P-256 ({e.Message}).", e);
        }
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>
/// One participant's pairwise one-time masks for one round (Bonawitz et al., CCS 2017): with each neighbour j it
/// shares a seed s_ij = HKDF-SHA256(ECDH(x_i, X_j), salt = round context, info = label ‖ the two ids in order), expands
/// it with AES-CTR into residues uniform modulo q₀, and adds them if its id sorts first, subtracts them otherwise. Over
/// a set whose neighbour relation is symmetric the masks cancel exactly in the sum, while each sealed update alone is
/// masked by a one-time pad from every honest neighbour. So even a decryption of one participant's ciphertext (say by
/// someone who learned the round's secret) shows nothing of its update. FedCore/Rounds/README.md says where this sits
/// in the round.
/// </summary>
public sealed class PairwiseMasks : IDisposable
{
    private const string SeedLabel = "federation/pairwise-mask/v1";
    private const string StreamDomain = "FedCore/pairwise-mask/stream/v1";

    private readonly Modulus _q0;
    private readonly (AesCtrRandom Stream, bool Subtract)[] _streams;
    private readonly byte[] _scratch; // one polynomial's draws, as bytes so the stream encrypts straight into it

    private PairwiseMasks(CkksParameters parameters, (AesCtrRandom, bool)[] streams)
    {
        _q0 = parameters.Context.WireModulus;
        _streams = streams;
        _scratch = new byte[parameters.RingDimension * sizeof(ulong)];
    }

    /// <summary>Number of neighbours this participant masks with.</summary>
    public int NeighbourCount => _streams.Length;

    /// <summary>
    /// The masks of <paramref name="self"/> with each of <paramref name="neighbours"/> (their ids and masking public keys),
    /// bound to <paramref name="context"/> (32 bytes naming the job, round and key; both sides must use the same).
    /// </summary>
    public static PairwiseMasks Derive(CkksParameters parameters, MaskingKeyPair own, string self,
        IReadOnlyList<(string Id, byte[] PublicKey)> neighbours, ReadOnlySpan<byte> context)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(own);
        ArgumentException.ThrowIfNullOrEmpty(self);
        if (context.Length != 32)
            throw new ArgumentException($"A masking context has 32 bytes; got {context.Length}.", nameof(context));
        var streams = new (AesCtrRandom, bool)[neighbours.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            for (int i = 0; i < neighbours.Count; i++)
            {
                var (peer, publicKey) = neighbours[i];
                if (peer == self || !seen.Add(peer))
                    throw new ArgumentException($"Neighbour '{peer}' is {(peer == self ? "this participant itself" : "listed twice")}.", nameof(neighbours));
                bool selfFirst = string.CompareOrdinal(self, peer) < 0;
                byte[] shared = own.AgreeWith(publicKey, peer);
                byte[] seed = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, AesCtrRandom.SeedLength, context.ToArray(),
                    PairInfo(selfFirst ? self : peer, selfFirst ? peer : self));
                CryptographicOperations.ZeroMemory(shared);
                streams[i] = (new AesCtrRandom(seed, StreamDomain), !selfFirst);
                CryptographicOperations.ZeroMemory(seed);
            }
        }
        catch
        {
            foreach (var (stream, _) in streams)
                stream?.Dispose();
            throw;
        }
        return new PairwiseMasks(parameters, streams);
    }

    private static byte[] PairInfo(string first, string second)
    {
        byte[] a = Encoding.UTF8.GetBytes(first), b = Encoding.UTF8.GetBytes(second), label = Encoding.UTF8.GetBytes(SeedLabel);
        return [.. label, 0, .. BitConverter.GetBytes(a.Length), .. a, .. BitConverter.GetBytes(b.Length), .. b];
    }

    /// <summary>Adds the next polynomial of every pairwise mask to <paramref name="polynomial"/> (coefficients mod q₀).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void AddTo(Span<ulong> polynomial)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(_scratch.AsSpan());
        if (polynomial.Length != words.Length)
            throw new ArgumentException($"A mask polynomial has {words.Length} coefficients; got {polynomial.Length}.");
        ulong q = _q0.Value, bits = (1UL << _q0.BitLength) - 1;
        foreach (var (stream, subtract) in _streams)
        {
            stream.Fill(_scratch);
            int j = 0;
            if (VectorArithmetic.Use512)
            {
                Vector512<ulong> vq = Vector512.Create(q), vbits = Vector512.Create(bits);
                for (; j + 8 <= polynomial.Length; j += 8)
                {
                    Vector512<ulong> u = Vector512.Create((ReadOnlySpan<ulong>)words.Slice(j, 8)) & vbits;
                    if (Vector512.GreaterThanOrEqualAny(u, vq))
                    {
                        // A rejection among these eight: the scalar loop, which draws replacements in the same order.
                        AddScalar(stream, subtract, polynomial.Slice(j, 8), words.Slice(j, 8), q, bits);
                        continue;
                    }
                    Vector512<ulong> p = Vector512.Create((ReadOnlySpan<ulong>)polynomial.Slice(j, 8));
                    // p − u + (q if it wrapped), or p + u − (q if not below q): the smaller of the two candidates.
                    Vector512<ulong> r = subtract ? Vector512.Min(p - u, p - u + vq) : VectorArithmetic.SubtractIfNotBelow(p + u, vq);
                    r.CopyTo(polynomial.Slice(j, 8));
                }
            }
            AddScalar(stream, subtract, polynomial[j..], words[j..], q, bits);
        }
        Array.Clear(_scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddScalar(AesCtrRandom stream, bool subtract, Span<ulong> polynomial, ReadOnlySpan<ulong> words, ulong q, ulong bits)
    {
        for (int j = 0; j < polynomial.Length; j++)
        {
            ulong u = words[j] & bits;
            while (u >= q) // rejection keeps u uniform; at q₀ ≈ 2⁶¹ − 2¹⁷ it almost never runs
                u = stream.NextUInt64() & bits;
            polynomial[j] = subtract ? _q0.Subtract(polynomial[j], u) : Modulus.SubtractIfNotBelow(polynomial[j] + u, q);
        }
    }

    public void Dispose()
    {
        foreach (var (stream, _) in _streams)
            stream.Dispose();
        Array.Clear(_scratch);
    }
}
