using System.Collections.Immutable;
using FedCore.Audit.Entries;

namespace FedCore.Audit.Reports;

/// <summary>
/// Builds a report from the log alone: its entries (canonical bytes, entry i at index i), a signed tree head covering the
/// first <c>head.Size</c> of them, and the Merkle tree over them for the inclusion proofs.
/// </summary>
public static class AuditReportBuilder
{
    /// <summary>
    /// Reads the first <c>head.Size</c> entries, takes those the scope selects (see the Audit README, "Reports"), composes
    /// the sections from them alone, and attaches each cited entry's inclusion proof under <paramref name="head"/>.
    /// Entries after the head are not reported: a report ends on a signed head.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer entries than the head covers, or the head's root is not the root of these entries.</exception>
    /// <exception cref="AuditFormatException">An entry is not an audit entry in its one written form (names its index).</exception>
    public static AuditReport Build(AuditReportScope scope, IReadOnlyList<byte[]> entries, SignedTreeHead head)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(head);
        long size = head.Head.Size;
        if (size > entries.Count)
            throw new ArgumentException($"The head covers {size} entries, but {entries.Count} were given.", nameof(entries));
        var tree = MerkleTree.FromEntries(entries.Take((int)size));
        if (!tree.RootAt(size).AsSpan().SequenceEqual(head.Head.RootSpan))
            throw new ArgumentException($"The head's root ({head.Head.RootHex}) is not the root of the first {size} entries given: the head is for another log.", nameof(head));

        var read = new List<(long Index, AuditEntry Entry)>((int)size);
        for (int i = 0; i < size; i++)
            read.Add((i, AuditEntryJson.Read(entries[i], $"entry {i}")));
        var selected = AuditReportSelection.Select(scope, read);
        var cited = selected.Select(i => new CitedEntry(i, [.. entries[(int)i]], read[(int)i].Entry,
            [.. tree.InclusionProof(i, size).Select(h => ImmutableArray.Create(h))])).ToImmutableArray();
        return Assemble(scope, head, cited);
    }

    internal static AuditReport Assemble(AuditReportScope scope, SignedTreeHead head, ImmutableArray<CitedEntry> cited)
    {
        var (sections, rounds, explanations) = AuditReportComposer.Compose(scope, head, cited);
        return new AuditReport(scope, head, cited, sections, rounds, explanations);
    }
}
