using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FedCore.Tests.Crypto;

/// <summary>
/// The stream <c>AesCtrRandom</c> documents, computed apart from it: AES-256-ECB under SHA-256(domain ‖ 0 ‖ seed) of the
/// counter blocks 0, 1, 2, … (each the block index as 8 bytes little-endian, then 8 zero bytes).
/// </summary>
internal static class AesCtrReference
{
    public static byte[] Stream(string domain, byte[] seed, int length)
    {
        byte[] key = SHA256.HashData([.. System.Text.Encoding.UTF8.GetBytes(domain), 0, .. seed]);
        using var aes = Aes.Create();
        aes.Key = key;
        int blocks = (length + 15) / 16;
        var counters = new byte[blocks * 16];
        for (int b = 0; b < blocks; b++)
            BinaryPrimitives.WriteUInt64LittleEndian(counters.AsSpan(b * 16), (ulong)b);
        return aes.EncryptEcb(counters, PaddingMode.None)[..length];
    }
}
