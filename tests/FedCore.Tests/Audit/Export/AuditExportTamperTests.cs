using System.Diagnostics;
using FedCore.Audit.Export;
using Xunit.Abstractions;

namespace FedCore.Tests.Audit.Export;

/// <summary>
/// Issue 11, section 5: any flipped byte anywhere in an export must fail verification. Exhaustive on a small export
/// (six entries, three heads, two countries, a membership chain of two records; about 5.6 kB in eight files): every
/// byte of every file is changed, cut or added to, and the export verified each time without trusted keys (the verifier
/// then has nothing but the export to go on, its weakest position).
/// </summary>
public class AuditExportTamperTests(ITestOutputHelper output)
{
    /// <summary>Each byte XOR these: the lowest bit, the highest bit, every bit.</summary>
    private static readonly byte[] Masks = [0x01, 0x80, 0xff];

    /// <summary>
    /// Runs <paramref name="variants"/> of every file over copies of the honest export, one per core, and returns the
    /// variants that verified. A variant is (file, its original bytes) → the changed bytes and a label.
    /// </summary>
    private (List<string> Passed, int Tried) Exhaust(Func<string, byte[], IEnumerable<(byte[] Bytes, string Label)>> variants)
    {
        using var honest = AuditExportFixture.Honest();
        Assert.True(honest.Verify().Ok);
        var work = honest.Files().SelectMany(file => variants(file, honest.Read(file)).Select(v => (File: file, v.Bytes, v.Label))).ToList();
        int workers = Math.Clamp(Environment.ProcessorCount, 1, 4);
        var passed = new List<string>[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            passed[w] = [];
            using var copy = honest.Copy();
            string? changedFile = null;
            for (int i = w; i < work.Count; i += workers)
            {
                var (file, bytes, label) = work[i];
                // Each variant replaces the whole file, so the file is put back only when the next variant is another's.
                if (changedFile is not null && changedFile != file)
                    copy.Write(changedFile, honest.Read(changedFile));
                changedFile = file;
                copy.Write(file, bytes);
                if (copy.Verify().Ok)
                    passed[w].Add($"{file}: {label}");
            }
            if (changedFile is not null)
                copy.Write(changedFile, honest.Read(changedFile));
            Assert.True(copy.Verify().Ok);
        });
        return ([.. passed.SelectMany(p => p)], work.Count);
    }

    private void Report(string what, (List<string> Passed, int Tried) outcome, Stopwatch clock)
    {
        output.WriteLine($"{outcome.Tried} exports with {what} verified in {clock.Elapsed.TotalSeconds:F1} s on {Environment.ProcessorCount} cores");
        Assert.True(outcome.Passed.Count == 0, $"{outcome.Passed.Count} of {outcome.Tried} changed exports verified: {string.Join("; ", outcome.Passed.Take(20))}");
    }

    [Fact]
    public void Every_byte_of_every_file_flipped_by_xor_0x01_0x80_or_0xff_fails_verification()
    {
        var clock = Stopwatch.StartNew();
        var outcome = Exhaust((file, original) =>
            from at in Enumerable.Range(0, original.Length)
            from mask in Masks
            select (Flip(original, at, mask), $"byte {at} ^ 0x{mask:x2}"));
        Report("one byte flipped", outcome, clock);
    }

    [Fact]
    public void Every_file_cut_short_at_every_length_fails_verification()
    {
        var clock = Stopwatch.StartNew();
        var outcome = Exhaust((file, original) =>
            from length in Enumerable.Range(0, original.Length)
            select (original[..length], $"cut to {length} bytes"));
        Report("a file cut short", outcome, clock);
    }

    [Fact]
    public void Every_byte_of_every_file_repeated_and_a_newline_anywhere_in_the_entries_fail_verification()
    {
        var clock = Stopwatch.StartNew();
        var outcome = Exhaust((file, original) =>
            (from at in Enumerable.Range(0, original.Length)
             select ((byte[])[.. original[..(at + 1)], .. original[at..]], $"byte {at} repeated"))
            .Concat(file != AuditExport.EntriesFile ? [] :
                from at in Enumerable.Range(0, original.Length + 1)
                select ((byte[])[.. original[..at], (byte)'\n', .. original[at..]], $"a newline inserted at {at}")));
        Report("a byte inserted", outcome, clock);
    }

    private static byte[] Flip(byte[] original, int at, byte mask)
    {
        byte[] changed = (byte[])original.Clone();
        changed[at] ^= mask;
        return changed;
    }
}
