using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;

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

    /// <summary>Σ c0 of the given ciphertexts + Σ shares, raw coefficients of their first ciphertext (what the aggregator computes).</summary>
    public static ulong[] RawSum(CkksParameters parameters, IEnumerable<byte[]> sealedUpdates, IEnumerable<DecryptionShare> shares) =>
        RawSum(parameters, sealedUpdates, shares.Select(share =>
        {
            var polynomial = new ulong[parameters.RingDimension];
            share.ReadChunk(0, polynomial);
            return polynomial;
        }));

    /// <summary>The same with each share as the raw coefficients of its first polynomial.</summary>
    public static ulong[] RawSum(CkksParameters parameters, IEnumerable<byte[]> sealedUpdates, IEnumerable<ulong[]> shares)
    {
        Modulus q0 = parameters.Context.WireModulus;
        var sum = new ulong[parameters.RingDimension];
        var addend = new ulong[parameters.RingDimension];
        foreach (var bytes in sealedUpdates)
        {
            EncryptedVector.FromBytes(bytes, parameters).ReadC0(0, addend);
            RnsRing.AddInPlace(q0, sum, addend);
        }
        foreach (var share in shares)
            RnsRing.AddInPlace(q0, sum, share);
        return sum;
    }

    /// <summary>
    /// A member's decryption share (first polynomial) as the aggregator reads it off what it revealed at step 6b, its part
    /// c0ᵢ + hᵢ, and the update it sealed: the part minus the update's c0.
    /// </summary>
    public static ulong[] ShareInPart(CkksParameters parameters, byte[] part, byte[] sealedUpdate)
    {
        Modulus q0 = parameters.Context.WireModulus;
        var share = new ulong[parameters.RingDimension];
        var c0 = new ulong[parameters.RingDimension];
        OpenedPlaintext.FromBytes(part, parameters).ReadChunk(0, share);
        EncryptedVector.FromBytes(sealedUpdate, parameters).ReadC0(0, c0);
        for (int j = 0; j < share.Length; j++)
            share[j] = q0.Subtract(share[j], c0[j]);
        return share;
    }

    /// <summary>
    /// An opened plaintext (or a member's part of one) with its first polynomial edited in place, header kept: what a
    /// dishonest aggregator or colluder shows instead.
    /// </summary>
    public static OpenedPlaintext EditFirstPolynomial(OpenedPlaintext plaintext, Action<ulong[]> edit)
    {
        var parameters = plaintext.Parameters;
        byte[] bytes = plaintext.ToBytes();
        int start = FedCore.Crypto.Wire.WireFormat.HeaderLength + 44, length = FedCore.Crypto.Wire.BitPacking.PackedLength(parameters.RingDimension, parameters.WireModulusBits);
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

    /// <summary>c0 + s·c1 − <paramref name="subtract"/> of every ciphertext, decoded: decryption by whoever knows the whole secret s.</summary>
    public static double[] DecryptWithSecret(EncryptedVector vector, long[] secret, ReadOnlySpan<ulong> subtract = default)
    {
        CkksParameters parameters = vector.Parameters;
        CkksContext context = parameters.Context;
        Modulus q0 = context.WireModulus;
        int n = parameters.RingDimension;
        var s = secret.Select(q0.FromSigned).ToArray();
        context.WireTransform.Forward(s);
        var values = new double[vector.Length];
        var c1 = new ulong[n];
        var plain = new ulong[n];
        var decoded = new double[n];
        for (int chunk = 0; chunk < vector.ChunkCount; chunk++)
        {
            vector.ReadC1(chunk, c1);
            context.WireTransform.Forward(c1);
            for (int j = 0; j < n; j++)
                c1[j] = q0.Multiply(c1[j], s[j]);
            context.WireTransform.Inverse(c1);
            vector.ReadC0(chunk, plain);
            for (int j = 0; j < n; j++)
                plain[j] = q0.Add(plain[j], c1[j]);
            if (!subtract.IsEmpty)
                for (int j = 0; j < n; j++)
                    plain[j] = q0.Subtract(plain[j], subtract[chunk * n + j]);
            int start = chunk * n, count = Math.Min(n, vector.Length - start);
            context.Encoder.Decode(plain, q0, vector.Scale, decoded.AsSpan(0, count));
            decoded.AsSpan(0, count).CopyTo(values.AsSpan(start));
        }
        return values;
    }
}
