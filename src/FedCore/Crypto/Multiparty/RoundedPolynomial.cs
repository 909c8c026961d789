using System.Runtime.CompilerServices;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;

namespace FedCore.Crypto.Multiparty;

/// <summary>
/// The wire form of a polynomial mod q_0 that joint decryption only adds (a ciphertext's c0, a decryption share): each
/// coefficient rounded to the nearest multiple of 2^<see cref="CkksParameters.RoundingBits"/>, sent divided by that and
/// bit-packed at <see cref="CkksParameters.RoundedBits"/> bits. Read back, a coefficient is that multiple reduced mod q_0.
/// </summary>
internal static class RoundedPolynomial
{
    public static int PackedLength(CkksParameters parameters) => BitPacking.PackedLength(parameters.RingDimension, parameters.RoundedBits);

    /// <summary>Rounds <paramref name="polynomial"/> (coefficients in [0, q_0)) in place and writes it.</summary>
    public static void Write(WireWriter writer, CkksParameters parameters, Span<ulong> polynomial)
    {
        Divide(polynomial);
        writer.WritePacked(polynomial, parameters.RoundedBits);
    }

    /// <summary>Rounds <paramref name="polynomial"/> in place and packs it into <paramref name="destination"/>, <see cref="PackedLength"/> bytes.</summary>
    public static void Pack(CkksParameters parameters, Span<ulong> polynomial, Span<byte> destination)
    {
        Divide(polynomial);
        BitPacking.Pack(polynomial, parameters.RoundedBits, destination);
    }

    /// <summary>Each coefficient to the nearest multiple of 2^RoundingBits, divided by it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Divide(Span<ulong> polynomial)
    {
        const ulong Half = 1UL << (CkksParameters.RoundingBits - 1);
        for (int j = 0; j < polynomial.Length; j++)
            polynomial[j] = (polynomial[j] + Half) >> CkksParameters.RoundingBits;
    }

    /// <summary>Rounds <paramref name="polynomial"/> in place to what <see cref="Write"/> and <see cref="Read"/> would give back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Round(CkksParameters parameters, Span<ulong> polynomial)
    {
        const ulong Half = 1UL << (CkksParameters.RoundingBits - 1);
        ulong q0 = parameters.WireModulus;
        for (int j = 0; j < polynomial.Length; j++)
            polynomial[j] = Modulus.SubtractIfNotBelow(((polynomial[j] + Half) >> CkksParameters.RoundingBits) << CkksParameters.RoundingBits, q0);
    }

    /// <summary>The polynomial mod q_0 from its packed, rounded form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Read(ReadOnlySpan<byte> packed, CkksParameters parameters, Span<ulong> destination)
    {
        BitPacking.Unpack(packed, parameters.RoundedBits, ulong.MaxValue, destination, out _);
        ulong q0 = parameters.WireModulus;
        for (int j = 0; j < destination.Length; j++)
            destination[j] = Modulus.SubtractIfNotBelow(destination[j] << CkksParameters.RoundingBits, q0);
    }

    /// <summary>Reads past one packed rounded polynomial, refusing a coefficient beyond the largest rounded value.</summary>
    public static void Check(ref WireReader reader, CkksParameters parameters, Span<ulong> scratch, string field) =>
        reader.ReadPacked(scratch, parameters.RoundedBits, parameters.MaxRoundedCoefficient + 1, field);
}
