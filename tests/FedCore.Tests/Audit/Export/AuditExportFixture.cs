using System.Collections.Immutable;
using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Export;
using FedCore.Governance.Membership;
using FedCore.Tests.Governance;

namespace FedCore.Tests.Audit.Export;

/// <summary>
/// A small honest log and its export: six entries, heads at sizes 2, 4 and 6 made by the operator and co-signed by the
/// countries' silos through <see cref="TreeHeadCosigner"/> (HU from the first head, CH from the second: it joined
/// later), the operator's membership chain with an organisation in each country.
/// </summary>
internal static class AuditExportFixture
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly ParticipantSigningKey Operator = ParticipantSigningKey.Generate();
    public static readonly ParticipantSigningKey Intruder = ParticipantSigningKey.Generate();
    public static readonly SortedDictionary<string, ParticipantSigningKey> Silos = new(StringComparer.Ordinal)
    {
        ["CH"] = ParticipantSigningKey.Generate(),
        ["HU"] = ParticipantSigningKey.Generate(),
    };
    public static readonly Dictionary<string, byte[]> CountryKeys = Silos.ToDictionary(s => s.Key, s => s.Value.PublicKey);
    public static readonly TestOrganisation Budapest = new("HU/budapest", ParticipantSigningKey.Generate());
    public static readonly TestOrganisation Zurich = new("CH/zurich", ParticipantSigningKey.Generate());

    public static AuditTrust Trust => new(Operator.PublicKey, CountryKeys);

    /// <summary>The sizes the log published heads at.</summary>
    public static readonly int[] HeadSizes = [2, 4, 6];

    /// <summary>Compact canonical JSON, as the log's entries are.</summary>
    public static byte[] Entry(int i) => Encoding.UTF8.GetBytes(i switch
    {
        0 => """{"actor":"operator","country":"HU","kind":"membership.record","serial":1,"time":"2025-03-01T09:00:00Z"}""",
        1 => """{"actor":"HU/budapest","country":"HU","dataset":"heart","kind":"dataset.registered","time":"2025-03-01T09:00:01Z"}""",
        2 => """{"actor":"operator","country":"CH","kind":"membership.record","serial":2,"time":"2025-03-01T09:00:02Z"}""",
        3 => """{"actor":"CH/zurich","country":"CH","dataset":"heart","kind":"dataset.registered","time":"2025-03-01T09:00:03Z"}""",
        4 => """{"actor":"HU/budapest","country":"HU","job":"j1","kind":"job.started","time":"2025-03-01T09:00:04Z"}""",
        5 => """{"actor":"CH/zurich","country":"CH","job":"j1","kind":"round.ended","round":1,"time":"2025-03-01T09:00:05Z"}""",
        _ => $$"""{"actor":"HU/budapest","country":"HU","kind":"extra","n":{{i}},"time":"2025-03-01T09:01:00Z"}""",
    });

    public static List<byte[]> LogEntries(int count) => [.. Enumerable.Range(0, count).Select(Entry)];

    /// <summary>
    /// Heads over <paramref name="entries"/> at <paramref name="sizes"/>, signed by <paramref name="operatorKey"/> and
    /// co-signed by each silo from the head in <paramref name="joins"/> (default: HU from the first, CH from the second),
    /// each co-signer checking consistency with the last head it co-signed.
    /// </summary>
    public static List<SignedTreeHead> Heads(IReadOnlyList<byte[]> entries, int[]? sizes = null, ParticipantSigningKey? operatorKey = null,
        IReadOnlyDictionary<string, ParticipantSigningKey>? silos = null, IReadOnlyDictionary<string, int>? joins = null)
    {
        operatorKey ??= Operator;
        silos ??= Silos;
        joins ??= new Dictionary<string, int> { ["HU"] = 0, ["CH"] = 1 };
        var tree = MerkleTree.FromEntries(entries);
        var cosigners = silos.ToDictionary(s => s.Key, s => new TreeHeadCosigner(s.Key, s.Value, operatorKey.PublicKey, null));
        var heads = new List<SignedTreeHead>();
        sizes ??= HeadSizes;
        for (int h = 0; h < sizes.Length; h++)
        {
            var head = SignedTreeHead.Sign(TreeHead.Create(sizes[h], tree.RootAt(sizes[h]), T0.AddSeconds(h + 1)), operatorKey);
            foreach (var (country, cosigner) in cosigners)
            {
                if (h < joins.GetValueOrDefault(country))
                    continue;
                var proof = cosigner.Last is { } last ? tree.ConsistencyProof(last.Size, sizes[h]) : [];
                var outcome = cosigner.Cosign(head, proof, T0.AddHours(1));
                Assert.True(outcome.IsCosigned, outcome.ToString());
                head = head.WithCosignature(outcome.Cosignature!);
            }
            heads.Add(head);
        }
        return heads;
    }

    public static ImmutableArray<MembershipRecord> Chain(ParticipantSigningKey? operatorKey = null)
    {
        var key = operatorKey ?? Operator;
        var first = MembershipChain.Start("audit-study", T0, [Budapest.Signed()], key);
        return [first, MembershipChain.Append([first], T0.AddDays(1), [Zurich.Signed()], [], key)];
    }

    private static readonly Lazy<byte[]> MembershipBytes = new(() => MembershipJson.Write(Chain()));

    private static readonly Lazy<List<SignedTreeHead>> HonestHeads = new(() => Heads(LogEntries(6)));

    public static AuditExportContent Content(IReadOnlyList<byte[]>? entries = null, IReadOnlyList<SignedTreeHead>? heads = null,
        bool membership = true) => new(
        entries ?? LogEntries(6), heads ?? HonestHeads.Value, Operator.PublicKey, CountryKeys, membership ? MembershipBytes.Value : null);

    /// <summary>Writes the honest export into a new temporary directory.</summary>
    public static TempExport Honest(bool membership = true)
    {
        var export = new TempExport();
        AuditExport.Write(export.Path, Content(membership: membership));
        return export;
    }
}

/// <summary>A temporary directory for one export, deleted afterwards.</summary>
internal sealed class TempExport : IDisposable
{
    public TempExport() => Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "audit-export-" + Guid.NewGuid().ToString("N"));

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public byte[] Read(string relative) => System.IO.File.ReadAllBytes(File(relative));

    public void Write(string relative, byte[] bytes) => System.IO.File.WriteAllBytes(File(relative), bytes);

    public List<byte[]> Lines() =>
        [.. Encoding.UTF8.GetString(Read(AuditExport.EntriesFile)).Split('\n')[..^1].Select(Encoding.UTF8.GetBytes)];

    public void WriteLines(IEnumerable<byte[]> lines) => Write(AuditExport.EntriesFile, [.. lines.SelectMany(l => l.Append((byte)'\n'))]);

    /// <summary>Every file's path relative to the export, with '/', in ordinal order.</summary>
    public List<string> Files() =>
        [.. Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(Path, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    /// <summary>A byte-for-byte copy of this export in another temporary directory.</summary>
    public TempExport Copy()
    {
        var copy = new TempExport();
        foreach (string file in Files())
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(copy.File(file))!);
            System.IO.File.Copy(File(file), copy.File(file));
        }
        return copy;
    }

    public AuditVerification Verify(AuditTrust? trust = null, Func<ReadOnlyMemory<byte>, string?>? entryCheck = null) =>
        AuditExportVerifier.Verify(Path, trust, entryCheck);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
