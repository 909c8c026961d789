using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FedCore.Aggregation.Integrity;

namespace FedCore.Governance.Canonical;

/// <summary>
/// What governance signatures cover: SHA-256 over a domain tag and the canonical bytes of a model, each prefixed by
/// its length as a 32-bit big-endian integer. The tag (e.g. <c>federation/membership/entry/v1</c>) names the kind of
/// statement, so a signature made for one kind never verifies as another, and the lengths keep any two (tag, body)
/// pairs from sharing an encoding.
/// </summary>
internal static class Statement
{
    public static byte[] Message(string tag, ReadOnlySpan<byte> canonical)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Encoding.UTF8.GetBytes(tag));
        Append(hash, canonical);
        return hash.GetHashAndReset();
    }

    public static ImmutableArray<byte> Sign(ParticipantSigningKey key, string tag, byte[] canonical) =>
        ImmutableCollectionsMarshal.AsImmutableArray(key.Sign(Message(tag, canonical)));

    /// <summary>False for a key not of the P-256 form (<see cref="Formats.IsP256PublicKey"/>), which the platform might not even import.</summary>
    public static bool Verify(ImmutableArray<byte> publicKey, string tag, byte[] canonical, ImmutableArray<byte> signature) =>
        Formats.IsP256PublicKey(publicKey) && !signature.IsDefaultOrEmpty
        && ParticipantSigningKey.Verify(ImmutableCollectionsMarshal.AsArray(publicKey)!, Message(tag, canonical), signature.AsSpan());

    /// <summary>Lower-case hex SHA-256 of canonical bytes: the identity of a record or of agreement terms.</summary>
    public static string Digest(byte[] canonical) => Convert.ToHexStringLower(SHA256.HashData(canonical));

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, field.Length);
        hash.AppendData(length);
        hash.AppendData(field);
    }
}
