using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FedCore.Policy.Packs;

/// <summary>
/// The identity of a policy set: lower-case hex SHA-256 over the tag <c>federation/policy-set/v1</c>, then, for each
/// file in ordinal order of its path relative to the folder ('/' separators), the path's UTF-8 bytes and the file's
/// bytes, every one of these fields prefixed by its length as a 32-bit big-endian integer. The lengths keep any two
/// sets from sharing an encoding; sorting makes the hash independent of the order the file system lists files in.
/// </summary>
public static class PolicySetHash
{
    public const string Tag = "federation/policy-set/v1";

    public static string Compute(IEnumerable<PolicyFile> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Encoding.UTF8.GetBytes(Tag));
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            Append(hash, Encoding.UTF8.GetBytes(file.Path));
            Append(hash, file.Content);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, field.Length);
        hash.AppendData(length);
        hash.AppendData(field);
    }
}

/// <summary>One file of a policy set: its path relative to the set's folder ('/' separators) and its bytes.</summary>
public sealed record PolicyFile(string Path, byte[] Content);
