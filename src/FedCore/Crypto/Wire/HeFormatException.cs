namespace FedCore.Crypto.Wire;

/// <summary>
/// A serialised homomorphic-encryption object is malformed, truncated, oversized, of another kind, or made
/// under another parameter set. Names the field and the byte offset at which reading failed.
/// </summary>
public sealed class HeFormatException : FormatException
{
    public HeFormatException(string objectKind, string field, long byteOffset, string problem)
        : base($"{objectKind}: {field} at byte offset {byteOffset}: {problem}")
    {
        ObjectKind = objectKind;
        Field = field;
        ByteOffset = byteOffset;
    }

    /// <summary>What was being read, e.g. "encrypted vector".</summary>
    public string ObjectKind { get; }

    public string Field { get; }

    public long ByteOffset { get; }
}
