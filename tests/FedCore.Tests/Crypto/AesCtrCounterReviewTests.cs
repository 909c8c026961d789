using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using FedCore.Crypto.Rlwe;
using Xunit.Abstractions;

namespace FedCore.Tests.Crypto;

/// <summary>
/// Session review (branch review/session-dec1) of 60c2ab9: AesCtrRandom writes its counter blocks four per Vector512 store.
/// Plays the attacker who looks for a repeated or skipped counter: every call pattern below is compared byte for byte
/// with AES-256-ECB over the documented counter blocks 0, 1, 2, … computed apart. Equality with that reference is also
/// the proof that no counter block repeats (a repeat would be a pairwise-mask keystream reuse).
/// </summary>
public sealed class AesCtrCounterReviewTests(ITestOutputHelper output)
{
    private static readonly byte[] Seed = [.. Enumerable.Range(0, 32).Select(i => (byte)(3 * i + 1))];
    private const string Domain = "session-review";

    private static byte[] Reference(int length) => AesCtrReference.Stream(Domain, Seed, length);

    [Fact]
    public void The_vector_counter_path_is_the_one_this_machine_runs()
    {
        // Not an assertion of security: tells the reader whether the tests below exercised the Vector512 branch here.
        output.WriteLine($"Vector512.IsHardwareAccelerated = {Vector512.IsHardwareAccelerated}");
    }

    public static TheoryData<string> Patterns() =>
    [
        // d = Fill(byte[]) (direct path when nothing is buffered and the length is whole blocks), s = Fill(Span), u = NextUInt64.
        "d16 d32 d48 d64 d80 d112 d65536 d65552 d16",
        "d16 s1 d32 s15 d48",                                // direct after a partial buffer falls back to the buffer
        "u u u d16 s65536 u d80 d65536",
        "s7 u s9 u d144 s65529 u u d48",                     // NextUInt64 across the buffer end
        "d131072 d65520 s16 d200000 s3 d16",
        "s65535 u s1 d208 s65537 d1040",
        "d0 d16 d0 s0 d2064 u d4112",
    ];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void A_caller_mixing_direct_fills_buffered_fills_and_words_never_sees_a_counter_block_repeated_or_skipped(string pattern)
    {
        var drawn = new List<byte>();
        using var stream = new AesCtrRandom(Seed, Domain);
        foreach (string op in pattern.Split(' '))
        {
            if (op == "u")
            {
                var word = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(word, stream.NextUInt64());
                drawn.AddRange(word);
                continue;
            }
            int length = int.Parse(op[1..]);
            var buffer = new byte[length];
            if (op[0] == 'd')
                stream.Fill(buffer);
            else
                stream.Fill(buffer.AsSpan());
            drawn.AddRange(buffer);
        }
        Assert.Equal(Reference(drawn.Count), drawn.ToArray());
    }

    [Fact]
    public void Every_direct_fill_length_of_one_to_forty_blocks_continues_the_stream_exactly()
    {
        // Lengths 16·k for k = 1 … 40 cover every remainder of the four-block stores (k mod 4) and every start of the
        // counter within them, one after another on one stream.
        using var stream = new AesCtrRandom(Seed, Domain);
        var drawn = new List<byte>();
        for (int k = 1; k <= 40; k++)
        {
            var buffer = new byte[16 * k];
            stream.Fill(buffer);
            drawn.AddRange(buffer);
        }
        var all = drawn.ToArray();
        Assert.Equal(Reference(all.Length), all);
        var blocks = Enumerable.Range(0, all.Length / 16).Select(b => Convert.ToHexString(all, b * 16, 16)).ToList();
        Assert.Equal(blocks.Count, blocks.Distinct().Count());
    }
}
