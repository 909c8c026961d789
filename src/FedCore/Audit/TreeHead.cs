using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FedCore.Governance.Canonical;

namespace FedCore.Audit;

/// <summary>
/// What the log publishes after a batch of appends: its size, its root (RFC 6962 MTH over the first
/// <see cref="Size"/> entries) and the time, a UTC instant in whole milliseconds. Immutable; two heads are equal when
/// their <see cref="Encode">encodings</see> are.
/// </summary>
/// <remarks>
/// Encoding (48 bytes): size as a 64-bit big-endian integer ‖ the 32-byte root ‖ the time as 64-bit big-endian
/// milliseconds since 1970-01-01T00:00:00Z. Every field has a fixed length, so no two heads share an encoding. The
/// operator signs it under <see cref="SignatureTag"/> and a country's silo co-signs it, followed by the two ASCII
/// letters of its country code, under <see cref="CosignatureTag"/>, both the way governance records are signed
/// (<see cref="Statement"/>: SHA-256 over the length-prefixed tag and body, signed with ECDSA P-256).
/// </remarks>
public sealed class TreeHead : IEquatable<TreeHead>
{
    /// <summary>The domain tag of the operator's signature over a head.</summary>
    public const string SignatureTag = "federation/audit/tree-head/v1";

    /// <summary>The domain tag of a country's co-signature over a head and its country code.</summary>
    public const string CosignatureTag = "federation/audit/tree-head/cosignature/v1";

    /// <summary>The length of <see cref="Encode"/>'s output.</summary>
    public const int EncodedLength = 8 + MerkleTree.HashLength + 8;

    /// <summary>The written form of <see cref="Time"/>: UTC, exactly three fractional digits, 'Z'.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private readonly byte[] _root;

    private TreeHead(long size, byte[] root, DateTimeOffset time)
    {
        Size = size;
        _root = root;
        Time = time;
    }

    /// <summary>How many entries the log has.</summary>
    public long Size { get; }

    /// <summary>The Merkle root of those entries (for size 0, <see cref="MerkleTree.EmptyRoot"/>).</summary>
    public ImmutableArray<byte> Root => [.. _root];

    /// <summary>When the log published the head: UTC, whole milliseconds, not before 1970.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The root as lower-case hex, as the JSON form writes it.</summary>
    public string RootHex => Convert.ToHexStringLower(_root);

    internal ReadOnlySpan<byte> RootSpan => _root;

    /// <summary>A head from its parts, checked.</summary>
    /// <exception cref="ArgumentException">A negative size, a root that is not 32 bytes (or, for size 0, not the empty
    /// tree's root), a time that is not UTC, not a whole millisecond, or before 1970.</exception>
    public static TreeHead Create(long size, ReadOnlySpan<byte> root, DateTimeOffset time) =>
        TryCreate(size, root, time, out var head, out var error) ? head : throw new ArgumentException(error);

    /// <summary>The head of <paramref name="tree"/> as it is now, at <paramref name="time"/> truncated to the millisecond (in UTC).</summary>
    public static TreeHead Of(MerkleTree tree, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return Create(tree.Size, tree.Root, DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds()));
    }

    /// <summary>As <see cref="Create"/>, with the problem as a sentence (naming the field) instead of an exception.</summary>
    public static bool TryCreate(long size, ReadOnlySpan<byte> root, DateTimeOffset time,
        [NotNullWhen(true)] out TreeHead? head, [NotNullWhen(false)] out string? error)
    {
        head = null;
        error = Problem(size, root, time);
        if (error is not null)
            return false;
        head = new TreeHead(size, root.ToArray(), time);
        return true;
    }

    private static string? Problem(long size, ReadOnlySpan<byte> root, DateTimeOffset time)
    {
        if (size < 0)
            return $"size: {size} is negative";
        if (root.Length != MerkleTree.HashLength)
            return $"root: {root.Length} bytes, not {MerkleTree.HashLength}";
        if (size == 0 && !root.SequenceEqual(MerkleTree.EmptyRoot()))
            return "root: a head of size 0 has the empty tree's root, SHA-256 of nothing";
        if (time.Offset != TimeSpan.Zero)
            return $"time: {time:O} is not UTC";
        if (time.Ticks % TimeSpan.TicksPerMillisecond != 0)
            return $"time: {time:O} is not a whole millisecond";
        if (time < DateTimeOffset.UnixEpoch)
            return $"time: {time:O} is before 1970-01-01T00:00:00Z";
        return null;
    }

    /// <summary>The 48 bytes that are signed and persisted: big-endian size ‖ root ‖ big-endian Unix milliseconds.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        BinaryPrimitives.WriteInt64BigEndian(bytes, Size);
        _root.CopyTo(bytes, 8);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8 + MerkleTree.HashLength), Time.ToUnixTimeMilliseconds());
        return bytes;
    }

    /// <summary>Reads <see cref="Encode"/>'s bytes back (e.g. a co-signer's persisted state), checking every field.</summary>
    /// <exception cref="ArgumentException">Not 48 bytes, or a field <see cref="Create"/> refuses (the message names it).</exception>
    public static TreeHead Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != EncodedLength)
            throw new ArgumentException($"An encoded tree head is {EncodedLength} bytes, not {encoded.Length}.", nameof(encoded));
        long size = BinaryPrimitives.ReadInt64BigEndian(encoded);
        long milliseconds = BinaryPrimitives.ReadInt64BigEndian(encoded[(8 + MerkleTree.HashLength)..]);
        if (milliseconds < 0 || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            throw new ArgumentException($"time: {milliseconds} ms since 1970 is outside 1970–9999.", nameof(encoded));
        return Create(size, encoded.Slice(8, MerkleTree.HashLength), DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));
    }

    /// <summary>What the operator's ECDSA key signs (<see cref="Statement.Message"/> under <see cref="SignatureTag"/>).</summary>
    internal byte[] SignedMessage() => Statement.Message(SignatureTag, Encode());

    /// <summary>The co-signature's body: the head's encoding followed by the country code's two ASCII letters.</summary>
    internal byte[] CosignedBody(string country) => [.. Encode(), .. Encoding.ASCII.GetBytes(country)];

    /// <summary>The time in its one written form, e.g. <c>2025-03-01T09:00:00.250Z</c>.</summary>
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    public bool Equals(TreeHead? other) =>
        other is not null && Size == other.Size && Time == other.Time && CryptographicOperations.FixedTimeEquals(_root, other._root);

    public override bool Equals(object? obj) => Equals(obj as TreeHead);

    public override int GetHashCode() => HashCode.Combine(Size, Time, BinaryPrimitives.ReadInt32BigEndian(_root));

    public override string ToString() => $"size {Size}, root {RootHex}, time {FormatTime(Time)}";
}
