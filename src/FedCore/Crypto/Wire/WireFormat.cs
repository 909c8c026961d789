using System.Buffers.Binary;
using FedCore.Crypto.Ckks;

namespace FedCore.Crypto.Wire;

/// <summary>Kind tag of a serialised object (byte 5 of the header).</summary>
public enum WireKind : byte
{
    PublicKeyShare = 1,
    CollectivePublicKey = 2,
    EncryptedVector = 3,
    DecryptionShare = 4,
    SecretKeyShare = 5,
    CiphertextMasks = 6,
    LinearFingerprint = 7,
    OpenedPlaintext = 8,
}

/// <summary>
/// Layout shared by every serialised object (all integers little-endian):
/// <code>
/// offset 0   4 bytes  magic "FDHE"
///        4   1 byte   format version (3)
///        5   1 byte   kind (<see cref="WireKind"/>)
///        6  32 bytes  fingerprint of the parameter set (SHA-256)
///       38   …        body of the kind
/// </code>
/// Bodies hold fixed-size fields, 32-bit counts, and polynomials bit-packed at their modulus width.
/// </summary>
public static class WireFormat
{
    /// <summary>
    /// 2: kind 6 became the ciphertext masks (it was commitment openings) and kind 7 the sketch was added.
    /// 3: an encrypted vector's c0 polynomials are rounded like decryption shares (<see cref="Ckks.CkksParameters.RoundingBits"/>).
    /// 4: kind 7 became the linear fingerprint (the key-bound sketch is gone: its coefficients were known before the
    ///    aggregate was fixed, which let an aggregator forge a passing aggregate).
    /// </summary>
    public const byte Version = 4;
    public const int HeaderLength = 38;
    internal static ReadOnlySpan<byte> Magic => "FDHE"u8;

    public static string Describe(WireKind kind) => kind switch
    {
        WireKind.PublicKeyShare => "public-key share",
        WireKind.CollectivePublicKey => "collective public key",
        WireKind.EncryptedVector => "encrypted vector",
        WireKind.DecryptionShare => "decryption share",
        WireKind.SecretKeyShare => "secret-key share",
        WireKind.CiphertextMasks => "ciphertext masks",
        WireKind.LinearFingerprint => "linear fingerprint",
        WireKind.OpenedPlaintext => "opened plaintext",
        _ => $"object of kind {(byte)kind}",
    };
}

/// <summary>Writes into a buffer sized exactly in advance; overrunning or underfilling it is a bug here, not bad input.</summary>
internal sealed class WireWriter
{
    private readonly byte[] _buffer;
    private int _position;

    public WireWriter(WireKind kind, CkksParameters parameters, long bodyLength)
    {
        long total = WireFormat.HeaderLength + bodyLength;
        if (total > Array.MaxLength)
            throw new InvalidOperationException($"The {WireFormat.Describe(kind)} would take {total} bytes, more than one array can hold.");
        // Every byte is written before ToArray hands the buffer out, so it need not be zeroed first.
        _buffer = GC.AllocateUninitializedArray<byte>((int)total);
        WriteBytes(WireFormat.Magic);
        _buffer[_position++] = WireFormat.Version;
        _buffer[_position++] = (byte)kind;
        WriteBytes(parameters.Fingerprint.Span);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_position));
        _position += bytes.Length;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_buffer.AsSpan(_position, 16));
        _position += 16;
    }

    public void WritePacked(ReadOnlySpan<ulong> residues, int bitWidth)
    {
        int length = BitPacking.PackedLength(residues.Length, bitWidth);
        BitPacking.Pack(residues, bitWidth, _buffer.AsSpan(_position, length));
        _position += length;
    }

    public byte[] ToArray()
    {
        if (_position != _buffer.Length)
            throw new InvalidOperationException($"Serialiser wrote {_position} of {_buffer.Length} bytes.");
        return _buffer;
    }
}

/// <summary>
/// Reads and validates; every failure is a <see cref="HeFormatException"/> naming the field and offset.
/// Sizes are checked against the bytes that remain before anything is allocated.
/// </summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _objectKind;
    private int _position;

    /// <summary>Checks the header: magic, version, kind and parameter fingerprint.</summary>
    public WireReader(ReadOnlySpan<byte> data, WireKind expectedKind, CkksParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _data = data;
        _objectKind = WireFormat.Describe(expectedKind);
        _position = 0;
        if (data.Length < WireFormat.HeaderLength)
            throw Fail("header", $"input has {data.Length} bytes; a header alone takes {WireFormat.HeaderLength}");
        if (!data[..4].SequenceEqual(WireFormat.Magic))
            throw Fail("magic", "not a Federation homomorphic-encryption object (expected \"FDHE\")");
        _position = 4;
        byte version = data[4];
        if (version != WireFormat.Version)
            throw Fail("version", $"format version {version} is not supported (this build reads version {WireFormat.Version})");
        _position = 5;
        var kind = (WireKind)data[5];
        if (kind != expectedKind)
            throw Fail("kind", $"these bytes are of kind '{WireFormat.Describe(kind)}', not '{_objectKind}'");
        _position = 6;
        ReadOnlySpan<byte> fingerprint = data.Slice(6, 32);
        if (!fingerprint.SequenceEqual(parameters.Fingerprint.Span))
        {
            CkksParameters? other = CkksParameters.FindByFingerprint(fingerprint);
            string whose = other is null ? "an unknown parameter set" : $"parameter set {other.Name}";
            throw Fail("parameter fingerprint", $"made under {whose}, expected {parameters.Name}");
        }
        _position = WireFormat.HeaderLength;
    }

    public readonly int Remaining => _data.Length - _position;

    public readonly int Position => _position;

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        Require(count, field);
        ReadOnlySpan<byte> bytes = _data.Slice(_position, count);
        _position += count;
        return bytes;
    }

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, field));

    public double ReadDouble(string field) => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8, field));

    public Guid ReadGuid(string field) => new(ReadBytes(16, field));

    /// <summary>Reads residues packed at <paramref name="bitWidth"/> bits and checks each is below <paramref name="modulus"/>.</summary>
    public void ReadPacked(Span<ulong> residues, int bitWidth, ulong modulus, string field)
    {
        int start = _position;
        ReadOnlySpan<byte> packed = ReadBytes(BitPacking.PackedLength(residues.Length, bitWidth), field);
        int bad = BitPacking.Unpack(packed, bitWidth, modulus, residues, out bool paddingNonZero);
        if (bad >= 0)
            throw new HeFormatException(_objectKind, $"{field}, coefficient {bad}", start + (long)bad * bitWidth / 8,
                $"value {residues[bad]} is not below the modulus {modulus}");
        if (paddingNonZero)
            throw new HeFormatException(_objectKind, field, _position - 1, "padding bits after the last coefficient are not zero");
    }

    /// <summary>Fails unless exactly <paramref name="expected"/> bytes remain (catches truncation and trailing data alike).</summary>
    public readonly void RequireExactly(long expected, string what)
    {
        if (Remaining < expected)
            throw Fail(what, $"needs {expected} more bytes but only {Remaining} remain (input truncated?)");
        if (Remaining > expected)
            throw Fail(what, $"needs {expected} more bytes but {Remaining} remain ({Remaining - expected} unexpected trailing bytes)");
    }

    public readonly void RequireEnd()
    {
        if (Remaining != 0)
            throw Fail("end of input", $"{Remaining} unexpected trailing bytes");
    }

    public readonly HeFormatException Fail(string field, string problem) => new(_objectKind, field, _position, problem);

    private readonly void Require(int count, string field)
    {
        if (count < 0 || count > Remaining)
            throw Fail(field, $"needs {count} bytes but only {Remaining} remain (input truncated?)");
    }
}
