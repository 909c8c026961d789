using System.Globalization;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Export;

/// <summary>
/// What an audit export holds: the log's entries (their canonical bytes, entry i at index i), its signed tree heads, the
/// operator's public key, each co-signing country's silo key (SubjectPublicKeyInfo DER, by country code) and, optionally,
/// the bytes of the operator's <c>membership.json</c>.
/// </summary>
public sealed record AuditExportContent(
    IReadOnlyList<byte[]> Entries,
    IReadOnlyList<SignedTreeHead> Heads,
    byte[] OperatorKey,
    IReadOnlyDictionary<string, byte[]> CountryKeys,
    byte[]? Membership);

/// <summary>
/// The export directory an auditor receives (see the Audit README, "Export and verify"):
/// <code>
/// entries.jsonl                  entry i on line i + 1: its canonical bytes, then "\n"
/// heads/000000000009.json        one signed tree head per size, named by its size (12 digits), as SignedTreeHead.Write gives it
/// keys/operator.pub              the operator's P-256 public key (SubjectPublicKeyInfo DER)
/// keys/CH.pub                    one per co-signing country: its silo's key
/// membership.json                optional: the operator's membership chain, as MembershipJson.Write gives it
/// </code>
/// Nothing else. <see cref="AuditExportVerifier"/> checks one.
/// </summary>
public static class AuditExport
{
    public const string EntriesFile = "entries.jsonl";
    public const string HeadsFolder = "heads";
    public const string KeysFolder = "keys";
    public const string OperatorKeyFile = "operator.pub";
    public const string MembershipFile = "membership.json";

    /// <summary>The digits of a head file's name: sizes up to 999 999 999 999.</summary>
    public const int HeadNameDigits = 12;

    /// <summary>The largest entry (one line, without its newline) the verifier reads.</summary>
    public const int MaxEntryBytes = 1 << 20;

    /// <summary>The largest head size a file name can carry.</summary>
    public const long MaxHeadSize = 999_999_999_999;

    /// <summary>The name of the head file for a tree of <paramref name="size"/> entries, e.g. <c>000000000009.json</c>.</summary>
    public static string HeadFileName(long size)
    {
        if (size < 0 || size > MaxHeadSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A head's size in an export is 0 to {MaxHeadSize}.");
        return size.ToString("D12", CultureInfo.InvariantCulture) + ".json";
    }

    /// <summary>The name of a country's key file, e.g. <c>CH.pub</c>.</summary>
    public static string CountryKeyFileName(string country) => country + ".pub";

    /// <summary>
    /// Writes an export into <paramref name="directory"/>, creating it if needed. Heads are written in increasing size,
    /// one per size: of several heads of the same size (the same tree published again later), the one with the latest
    /// time is kept (at equal times, the one given last). The entries written are exactly those the last head covers
    /// (entries beyond it are left out), so an export always ends on a signed head. Signatures and roots are not checked
    /// here; <see cref="AuditExportVerifier.Verify"/> checks what was written.
    /// </summary>
    /// <exception cref="IOException">The directory exists and is not empty.</exception>
    /// <exception cref="ArgumentException">No head; a head larger than the entries given; two heads of one size with
    /// different roots (the log forked); an entry that is empty or holds a newline; a key not a P-256 SubjectPublicKeyInfo;
    /// a country code that is not two capital letters.</exception>
    public static void Write(string directory, AuditExportContent content)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(content.Entries);
        ArgumentNullException.ThrowIfNull(content.Heads);
        ArgumentNullException.ThrowIfNull(content.OperatorKey);
        ArgumentNullException.ThrowIfNull(content.CountryKeys);

        var heads = LatestPerSize(content.Heads);
        long covered = heads[^1].Head.Size;
        if (covered > content.Entries.Count)
            throw new ArgumentException($"The last head covers {covered} entries, but {content.Entries.Count} were given.", nameof(content));
        for (int i = 0; i < covered; i++)
        {
            var entry = content.Entries[i] ?? throw new ArgumentException($"Entry {i} is null.", nameof(content));
            if (entry.Length == 0)
                throw new ArgumentException($"Entry {i} is empty.", nameof(content));
            if (entry.Length > MaxEntryBytes)
                throw new ArgumentException($"Entry {i} is {entry.Length} bytes; the verifier reads at most {MaxEntryBytes}.", nameof(content));
            if (Array.IndexOf(entry, (byte)'\n') >= 0)
                throw new ArgumentException($"Entry {i} holds a newline; an entry is one line of compact canonical JSON.", nameof(content));
        }
        if (!Formats.IsP256PublicKey([.. content.OperatorKey]))
            throw new ArgumentException("The operator key is not a P-256 SubjectPublicKeyInfo (91 bytes, uncompressed point).", nameof(content));
        foreach (var (country, key) in content.CountryKeys)
        {
            if (!Formats.IsCountryCode(country))
                throw new ArgumentException($"'{country}' is not a country code (two capital letters).", nameof(content));
            if (key is null || !Formats.IsP256PublicKey([.. key]))
                throw new ArgumentException($"The key of {country} is not a P-256 SubjectPublicKeyInfo (91 bytes, uncompressed point).", nameof(content));
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new IOException($"{directory} is not empty; an export is written into a new or empty directory.");
        Directory.CreateDirectory(directory);
        string headsFolder = Path.Combine(directory, HeadsFolder);
        string keysFolder = Path.Combine(directory, KeysFolder);
        Directory.CreateDirectory(headsFolder);
        Directory.CreateDirectory(keysFolder);

        using (var stream = new FileStream(Path.Combine(directory, EntriesFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            for (int i = 0; i < covered; i++)
            {
                stream.Write(content.Entries[i]);
                stream.WriteByte((byte)'\n');
            }
        }
        foreach (var head in heads)
            WriteNew(Path.Combine(headsFolder, HeadFileName(head.Head.Size)), head.Write());
        WriteNew(Path.Combine(keysFolder, OperatorKeyFile), content.OperatorKey);
        foreach (var (country, key) in content.CountryKeys)
            WriteNew(Path.Combine(keysFolder, CountryKeyFileName(country)), key);
        if (content.Membership is { } membership)
            WriteNew(Path.Combine(directory, MembershipFile), membership);
    }

    /// <summary>The heads in increasing size, the latest of each size.</summary>
    internal static List<SignedTreeHead> LatestPerSize(IReadOnlyList<SignedTreeHead> heads)
    {
        if (heads.Count == 0)
            throw new ArgumentException("An export needs at least one signed tree head: without one nothing in it is signed.", nameof(heads));
        var ordered = heads.Select((head, index) => (Head: head ?? throw new ArgumentException($"Head {index} is null.", nameof(heads)), Index: index))
            .OrderBy(h => h.Head.Head.Size).ThenBy(h => h.Head.Head.Time).ThenBy(h => h.Index).Select(h => h.Head).ToList();
        var kept = new List<SignedTreeHead>(ordered.Count);
        foreach (var head in ordered)
        {
            if (head.Head.Size > MaxHeadSize)
                throw new ArgumentException($"A head of size {head.Head.Size} is beyond what an export names ({MaxHeadSize}).", nameof(heads));
            if (kept.Count > 0 && kept[^1].Head.Size == head.Head.Size)
            {
                if (!kept[^1].Head.Root.SequenceEqual(head.Head.Root))
                    throw new ArgumentException($"Two heads of size {head.Head.Size} have different roots ({kept[^1].Head.RootHex}, {head.Head.RootHex}): the log forked.", nameof(heads));
                kept[^1] = head;
            }
            else
                kept.Add(head);
        }
        return kept;
    }

    private static void WriteNew(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
    }
}
