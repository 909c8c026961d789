using System.Buffers.Binary;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace Federation.Tests.Shared;

/// <summary>
/// What an attacker does with ciphertexts in the attack tests (compiled into both test projects): craft one of chosen
/// structure, add ciphertexts and shares as the aggregator holds them, and decrypt with a secret it learned.
/// </summary>
internal static class CkksAttackTools
{
    /// <summary>
    /// The public key share that turns a round key into one of the attacker's making: p_target − Σ <paramref name="others"/>
    /// (the other members' shares, which it sees only once they are revealed), with the key it makes and that key's secret shares.
    /// </summary>
    public static (byte[] Share, CollectivePublicKey Target, IReadOnlyList<SecretKeyShare> Secrets) RogueShare(CkksParameters parameters, IEnumerable<byte[]> others)
    {
        var theirs = others.Select(s => PublicKeyShare.FromBytes(s, parameters)).ToList();
        byte[] crs = theirs[0].CrsSeed.ToArray();
        var own = Enumerable.Range(0, 3).Select(_ => SecretKeyShare.Generate(parameters, crs)).ToList();
        var target = CollectivePublicKey.Combine(own.Select(s => s.PublicKeyShare));
        var ring = parameters.Context.Ring;
        var p = ring.NewPolynomial(ring.Moduli.Count);
        for (int m = 0; m < ring.Moduli.Count; m++)
        {
            Span<ulong> residue = p.Residue(m);
            target.P.Residue(m).CopyTo(residue);
            foreach (var other in theirs)
            {
                Span<ulong> subtrahend = other.P.Residue(m);
                for (int j = 0; j < residue.Length; j++)
                    residue[j] = ring.Moduli[m].Subtract(residue[j], subtrahend[j]);
            }
        }
        return (new PublicKeyShare(parameters, crs, p).ToBytes(), target, own);
    }

    /// <summary>A ciphertext of any structure in a valid wire form: c0 and c1 given per chunk and coefficient.</summary>
    public static byte[] CraftCiphertext(CkksParameters parameters, CollectivePublicKey key, int length, double bound, Func<int, int, ulong> c0, Func<int, int, ulong> c1)
    {
        int n = parameters.RingDimension, chunks = (length + n - 1) / n;
        var writer = EncryptedVector.NewWriter(parameters, key.KeyId.Span, length, parameters.ScaleForBound(bound));
        var polynomial = new ulong[n];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            for (int j = 0; j < n; j++)
                polynomial[j] = c0(chunk, j);
            RoundedPolynomial.Write(writer, parameters, polynomial);
            for (int j = 0; j < n; j++)
                polynomial[j] = c1(chunk, j);
            writer.WritePacked(polynomial, parameters.WireModulusBits);
        }
        return writer.ToArray();
    }

    /// <summary>
    /// target − Σ <paramref name="others"/>, value by value: the fingerprint a colluder signs so that the members' fingerprints
    /// add up to <paramref name="target"/>'s (a forged aggregate's) at the challenge they were made at.
    /// </summary>
    public static byte[] FingerprintLie(LinearFingerprint target, IEnumerable<LinearFingerprint> others)
    {
        Modulus q0 = target.Parameters.Context.WireModulus;
        int count = LinearFingerprint.Points;
        var bytes = target.ToBytes();
        var parts = others.Select(o => o.ToBytes()).ToList();
        for (int i = 0; i < count; i++)
        {
            int at = bytes.Length - 8 * (count - i);
            ulong v = BitConverter.ToUInt64(bytes, at);
            foreach (var p in parts)
                v = q0.Subtract(v, BitConverter.ToUInt64(p, at));
            BitConverter.GetBytes(v).CopyTo(bytes, at);
        }
        return bytes;
    }

    /// <summary>What of a sealed update leaves its participant, and so all the aggregator holds of it: its masks (c1 halves).</summary>
    public static byte[] Sent(CkksParameters parameters, byte[] sealedUpdate) =>
        CiphertextMasks.Of(EncryptedVector.FromBytes(sealedUpdate, parameters)).ToBytes();

    /// <summary>The first polynomial of a member's part (or of an opened plaintext), raw coefficients.</summary>
    public static ulong[] FirstPolynomial(CkksParameters parameters, byte[] part)
    {
        var polynomial = new ulong[parameters.RingDimension];
        OpenedPlaintext.FromBytes(part, parameters).ReadChunk(0, polynomial);
        return polynomial;
    }

    /// <summary>c0 of the first ciphertext of a whole sealed update: a colluder knows its own.</summary>
    public static ulong[] C0Of(CkksParameters parameters, byte[] sealedUpdate)
    {
        var c0 = new ulong[parameters.RingDimension];
        EncryptedVector.FromBytes(sealedUpdate, parameters).ReadC0(0, c0);
        return c0;
    }

    /// <summary>Σ of raw polynomials, coefficient by coefficient mod q₀ (what the aggregator adds).</summary>
    public static ulong[] Sum(CkksParameters parameters, IEnumerable<ulong[]> polynomials)
    {
        Modulus q0 = parameters.Context.WireModulus;
        var sum = new ulong[parameters.RingDimension];
        foreach (var polynomial in polynomials)
            RnsRing.AddInPlace(q0, sum, polynomial);
        return sum;
    }

    /// <summary>
    /// An honest member's c0 (first ciphertext) as if it had leaked, which it never does: its revealed part minus sᵢ·M for
    /// the masks M it was shown, with sᵢ read by the test from the member's record before step 6 erased it. The member's
    /// flooding noise stays in (a few bits, far below the scale).
    /// </summary>
    public static ulong[] C0AsIfLeaked(CkksParameters parameters, byte[] part, SecretKeyShare secret, byte[] masksShown)
    {
        Modulus q0 = parameters.Context.WireModulus;
        var c0 = FirstPolynomial(parameters, part);
        var share = secret.PartialDecryptionWithoutFlooding(CiphertextMasks.FromBytes(masksShown, parameters), 0);
        for (int j = 0; j < c0.Length; j++)
            c0[j] = q0.Subtract(c0[j], share[j]);
        return c0;
    }

    /// <summary>The one-ciphertext vector (c0, the first c1 of <paramref name="sent"/>) at the scale for <paramref name="bound"/>: a sealed update put back together.</summary>
    public static EncryptedVector Rejoin(CkksParameters parameters, CollectivePublicKey key, int length, double bound, ulong[] c0, byte[] sent)
    {
        var c1 = new ulong[parameters.RingDimension];
        CiphertextMasks.FromBytes(sent, parameters).ReadC1(0, c1);
        return EncryptedVector.FromBytes(CraftCiphertext(parameters, key, length, bound, (_, j) => c0[j], (_, j) => c1[j]), parameters);
    }

    /// <summary>
    /// An opened plaintext (or a member's part of one) with its first polynomial edited in place, header kept: what a
    /// dishonest aggregator or colluder shows instead.
    /// </summary>
    public static OpenedPlaintext EditFirstPolynomial(OpenedPlaintext plaintext, Action<ulong[]> edit)
    {
        var parameters = plaintext.Parameters;
        byte[] bytes = plaintext.ToBytes();
        int start = WireFormat.HeaderLength + 44, length = FedCore.Crypto.Wire.BitPacking.PackedLength(parameters.RingDimension, parameters.WireModulusBits);
        var coefficients = new ulong[parameters.RingDimension];
        FedCore.Crypto.Wire.BitPacking.Unpack(bytes.AsSpan(start, length), parameters.WireModulusBits, ulong.MaxValue, coefficients, out _);
        edit(coefficients);
        FedCore.Crypto.Wire.BitPacking.Pack(coefficients, parameters.WireModulusBits, bytes.AsSpan(start, length));
        return OpenedPlaintext.FromBytes(bytes, parameters);
    }

    /// <summary><paramref name="plaintext"/> with <paramref name="delta"/> added to its first polynomial, coefficient by coefficient mod q₀.</summary>
    public static OpenedPlaintext AddToFirstPolynomial(OpenedPlaintext plaintext, ulong[] delta) => EditFirstPolynomial(plaintext, c =>
    {
        Modulus q0 = plaintext.Parameters.Context.WireModulus;
        for (int j = 0; j < c.Length; j++)
            c[j] = q0.Add(c[j], delta[j]);
    });

    /// <summary>s·a mod q₀ (negacyclic) for a secret <paramref name="secret"/> given by its small coefficients: what an attacker that read it computes.</summary>
    public static ulong[] MultiplyBySecret(CkksParameters parameters, long[] secret, ReadOnlySpan<ulong> a)
    {
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        var s = secret.Select(q0.FromSigned).ToArray();
        var product = a.ToArray();
        context.WireTransform.Forward(s);
        context.WireTransform.Forward(product);
        for (int j = 0; j < product.Length; j++)
            product[j] = q0.Multiply(product[j], s[j]);
        context.WireTransform.Inverse(product);
        return product;
    }

    /// <summary>c0 + s·c1 − <paramref name="subtract"/> of every ciphertext, decoded: decryption by whoever knows the whole secret s.</summary>
    public static double[] DecryptWithSecret(EncryptedVector vector, long[] secret, ReadOnlySpan<ulong> subtract = default)
    {
        CkksParameters parameters = vector.Parameters;
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        int n = parameters.RingDimension;
        var values = new double[vector.Length];
        var c1 = new ulong[n];
        var plain = new ulong[n];
        var decoded = new double[n];
        for (int chunk = 0; chunk < vector.ChunkCount; chunk++)
        {
            vector.ReadC1(chunk, c1);
            var sc1 = MultiplyBySecret(parameters, secret, c1);
            vector.ReadC0(chunk, plain);
            for (int j = 0; j < n; j++)
                plain[j] = q0.Add(plain[j], sc1[j]);
            if (!subtract.IsEmpty)
                for (int j = 0; j < n; j++)
                    plain[j] = q0.Subtract(plain[j], subtract[chunk * n + j]);
            int start = chunk * n, count = Math.Min(n, vector.Length - start);
            context.Encoder.Decode(plain, q0, vector.Scale, decoded.AsSpan(0, count));
            decoded.AsSpan(0, count).CopyTo(values.AsSpan(start));
        }
        return values;
    }

    /// <summary>
    /// A part's (or any opened plaintext's) bytes with one header field changed: "scale" doubled, "length" one value fewer
    /// in as many ciphertexts, or else the round key's id. Its Merkle commitment covers the coefficients only.
    /// </summary>
    public static byte[] WithHeader(byte[] part, string field)
    {
        var copy = (byte[])part.Clone();
        switch (field)
        {
            case "scale":
                var scale = copy.AsSpan(WireFormat.HeaderLength + 32 + 4, 8);
                BinaryPrimitives.WriteDoubleLittleEndian(scale, BinaryPrimitives.ReadDoubleLittleEndian(scale) * 2);
                break;
            case "length":
                var length = copy.AsSpan(WireFormat.HeaderLength + 32, 4);
                BinaryPrimitives.WriteUInt32LittleEndian(length, BinaryPrimitives.ReadUInt32LittleEndian(length) - 1);
                break;
            default:
                copy[WireFormat.HeaderLength] ^= 1;
                break;
        }
        return copy;
    }
}
