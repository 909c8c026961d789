using System.Security.Cryptography;

namespace FedCore.Tests.Audit;

/// <summary>
/// RFC 6962 §2.1 written out literally over raw entries, with SHA-256 called directly: MTH, PATH and
/// SUBPROOF as the RFC's recursive definitions. Slow and obviously right; the tests hold the tree's
/// bottom-up implementation and the verifiers' index arithmetic against it.
/// </summary>
internal static class RfcReference
{
    public static byte[] LeafHash(byte[] entry) => SHA256.HashData([0x00, .. entry]);

    public static byte[] NodeHash(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    // k: the largest power of two smaller than n.
    private static int Split(int n)
    {
        int k = 1;
        while (k * 2 < n)
            k *= 2;
        return k;
    }

    /// <summary>MTH(D[n]).</summary>
    public static byte[] Mth(byte[][] d)
    {
        if (d.Length == 0)
            return SHA256.HashData(Array.Empty<byte>());
        if (d.Length == 1)
            return LeafHash(d[0]);
        int k = Split(d.Length);
        return NodeHash(Mth(d[..k]), Mth(d[k..]));
    }

    /// <summary>PATH(m, D[n]).</summary>
    public static List<byte[]> Path(int m, byte[][] d)
    {
        if (d.Length == 1)
            return [];
        int k = Split(d.Length);
        return m < k ? [.. Path(m, d[..k]), Mth(d[k..])] : [.. Path(m - k, d[k..]), Mth(d[..k])];
    }

    /// <summary>PROOF(m, D[n]) = SUBPROOF(m, D[n], true).</summary>
    public static List<byte[]> Proof(int m, byte[][] d) => SubProof(m, d, true);

    private static List<byte[]> SubProof(int m, byte[][] d, bool b)
    {
        if (m == d.Length)
            return b ? [] : [Mth(d)];
        int k = Split(d.Length);
        return m <= k ? [.. SubProof(m, d[..k], b), Mth(d[k..])] : [.. SubProof(m - k, d[k..], false), Mth(d[..k])];
    }

    /// <summary>Distinct entries of varying length, so that no two leaves (or subtrees) hash alike.</summary>
    public static byte[][] Entries(int n) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, i % 5).Select(j => (byte)(i * 7 + j)).Prepend((byte)i).Prepend((byte)(i >> 8)).ToArray()).ToArray();
}
