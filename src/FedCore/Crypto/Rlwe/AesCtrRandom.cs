using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;

namespace FedCore.Crypto.Rlwe;

/// <summary>
/// A deterministic cryptographically secure stream: AES-256 in counter mode, keyed by
/// SHA-256(domain ‖ 0 ‖ seed). The same (domain, seed) always gives the same stream, which is what
/// expanding a public seed into a common reference polynomial needs; seeded from the operating
/// system's entropy it is the private randomness of key generation, encryption and noise flooding.
/// AES runs on the processor's AES instructions through the platform's crypto library, which makes it
/// fast enough to feed every sampler here. The domain label keeps streams for different purposes apart.
/// </summary>
public sealed class AesCtrRandom : IDisposable
{
    public const int SeedLength = 32;
    private const int BlockLength = 16;
    // 64 KiB per AES call: large enough that the per-call overhead of the crypto library vanishes.
    private const int BufferLength = 65536;

    private readonly Aes _aes;
    private readonly ICryptoTransform _encryptor; // one native cipher context, reused for every block of counters
    private readonly byte[] _counterBlocks = new byte[BufferLength];
    private readonly byte[] _keystream = new byte[BufferLength];
    private int _position = BufferLength;
    private ulong _nextBlock;

    public AesCtrRandom(ReadOnlySpan<byte> seed, string domain)
    {
        if (seed.Length != SeedLength)
            throw new ArgumentException($"A seed has {SeedLength} bytes; got {seed.Length}.", nameof(seed));
        ArgumentException.ThrowIfNullOrEmpty(domain);
        byte[] label = Encoding.UTF8.GetBytes(domain);
        byte[] keyMaterial = new byte[label.Length + 1 + SeedLength];
        label.CopyTo(keyMaterial, 0);
        seed.CopyTo(keyMaterial.AsSpan(label.Length + 1));
        byte[] key = SHA256.HashData(keyMaterial);
        CryptographicOperations.ZeroMemory(keyMaterial);
        _aes = Aes.Create();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _aes.Key = key;
        CryptographicOperations.ZeroMemory(key);
        _encryptor = _aes.CreateEncryptor();
    }

    /// <summary>A stream seeded from the operating system's entropy source.</summary>
    public static AesCtrRandom FromSystemEntropy(string domain)
    {
        Span<byte> seed = stackalloc byte[SeedLength];
        RandomNumberGenerator.Fill(seed);
        var random = new AesCtrRandom(seed, domain);
        CryptographicOperations.ZeroMemory(seed);
        return random;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_position == BufferLength)
                Refill();
            int count = Math.Min(destination.Length, BufferLength - _position);
            _keystream.AsSpan(_position, count).CopyTo(destination);
            _position += count;
            destination = destination[count..];
        }
    }

    public void Fill(Span<ulong> destination) => Fill(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));

    /// <summary>
    /// The same bytes as <see cref="Fill(Span{byte})"/>, encrypted straight into <paramref name="destination"/> (in place,
    /// over its counter blocks) when nothing is buffered and whole blocks are asked for: one copy fewer where a caller
    /// draws large arrays, as the pairwise masks do (one model's worth per neighbour).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(byte[] destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_position != BufferLength || destination.Length % BlockLength != 0)
        {
            Fill(destination.AsSpan());
            return;
        }
        for (int offset = 0; offset < destination.Length; offset += BufferLength)
        {
            int length = Math.Min(BufferLength, destination.Length - offset);
            WriteCounters(destination.AsSpan(offset, length));
            _encryptor.TransformBlock(destination, offset, length, destination, offset);
        }
    }

    public ulong NextUInt64()
    {
        if (BufferLength - _position < sizeof(ulong))
        {
            Span<byte> bytes = stackalloc byte[sizeof(ulong)];
            Fill(bytes);
            return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        }
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_keystream.AsSpan(_position));
        _position += sizeof(ulong);
        return value;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_keystream);
        _encryptor.Dispose();
        _aes.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Refill()
    {
        WriteCounters(_counterBlocks);
        _encryptor.TransformBlock(_counterBlocks, 0, BufferLength, _keystream, 0);
        _position = 0;
    }

    /// <summary>The next counter blocks, one per 16 bytes of <paramref name="blocks"/>: 64-bit block index, little-endian, then eight zero bytes (the key is unique per stream).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteCounters(Span<byte> blocks)
    {
        Span<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(blocks);
        int w = 0;
        if (Vector512.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            // Four blocks per store: written one by one, they cost a fifth of the stream's time (4.9–5.5 GB/s against 6.1–6.8).
            var counters = Vector512.Create(_nextBlock, 0, _nextBlock + 1, 0, _nextBlock + 2, 0, _nextBlock + 3, 0);
            var step = Vector512.Create(4UL, 0, 4, 0, 4, 0, 4, 0);
            for (; w + 8 <= words.Length; w += 8)
            {
                counters.CopyTo(words.Slice(w, 8));
                counters += step;
            }
            _nextBlock += (ulong)(w / 2);
        }
        for (; w < words.Length; w += 2)
        {
            words[w] = BitConverter.IsLittleEndian ? _nextBlock : BinaryPrimitives.ReverseEndianness(_nextBlock);
            words[w + 1] = 0;
            _nextBlock++;
        }
    }
}
