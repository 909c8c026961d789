using System.Buffers;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using FedCore.Governance;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Audit.Export;

/// <summary>
/// Public keys an auditor obtained independently of the export (SubjectPublicKeyInfo DER): the operator's and each
/// co-signing country's silo key, by country code. Given to <see cref="AuditExportVerifier.Verify"/>, the export's key
/// files must equal them exactly.
/// </summary>
public sealed record AuditTrust(byte[] OperatorKey, IReadOnlyDictionary<string, byte[]> CountryKeys);

/// <summary>A head that verified but lacks the co-signatures of some countries that have a key (allowed except on the last head).</summary>
public sealed record HeadMissingCosignatures(string File, long Size, IReadOnlyList<string> Countries)
{
    public override string ToString() => $"{File} (size {Size}): not co-signed by {string.Join(", ", Countries)}";
}

/// <summary>
/// The outcome of <see cref="AuditExportVerifier.Verify"/>. <see cref="Ok"/> when every check held; otherwise
/// <see cref="Problem"/> is the first failure as a sentence naming the entry, head or file. The counts are of what was
/// read (on failure, up to the failure).
/// </summary>
public sealed record AuditVerification(
    bool Ok,
    string? Problem,
    long EntryCount,
    int HeadCount,
    int CountryCount,
    IReadOnlyList<string> Countries,
    bool KeysFromExport,
    bool HasMembership,
    IReadOnlyList<HeadMissingCosignatures> HeadsMissingCosignatures,
    TreeHead? LastHead)
{
    public override string ToString() => Ok
        ? $"verified: {EntryCount} entries, {HeadCount} heads, {CountryCount} co-signing countries ({string.Join(", ", Countries)}){(KeysFromExport ? "; keys taken from the export itself" : "; keys as trusted")}"
        : $"refused: {Problem}";
}

/// <summary>
/// Checks an audit export (<see cref="AuditExport"/>) with nothing but its files and, optionally, keys the auditor
/// trusts. Stops at the first failure and names it. See the Audit README, "Export and verify (section 5)".
/// </summary>
public static class AuditExportVerifier
{
    private static readonly Regex HeadName = new(@"^[0-9]{12}\.json\z", RegexOptions.CultureInvariant);
    private static readonly Regex CountryKeyName = new(@"^[A-Z]{2}\.pub\z", RegexOptions.CultureInvariant);

    /// <summary>The size of a P-256 SubjectPublicKeyInfo with an uncompressed point.</summary>
    private const int KeyFileBytes = 91;

    /// <summary>
    /// The default entry check: the entry is canonical JSON, i.e. <see cref="CanonicalJson.Write"/> of its parsed value
    /// gives back exactly its bytes. Returns null when it is, or why not.
    /// </summary>
    public static string? CanonicalJsonEntry(ReadOnlyMemory<byte> entry)
    {
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(entry.Span);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return $"is not JSON ({e.Message.Split('\n')[0].Trim()})";
        }
        byte[] canonical;
        try
        {
            canonical = CanonicalJson.Write(value);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return $"has no canonical form ({e.Message})";
        }
        var span = entry.Span;
        if (!span.SequenceEqual(canonical))
            return $"is not canonical JSON (compact, keys sorted, one form per value): it differs from its canonical form at byte {span.CommonPrefixLength(canonical) + 1}";
        return null;
    }

    /// <summary>
    /// Verifies the export in <paramref name="directory"/>. Never throws for what the export holds: every defect is a
    /// refusal with its reason.
    /// </summary>
    /// <param name="trust">Keys the auditor trusts; when null the export's own keys are used and the result says so
    /// (<see cref="AuditVerification.KeysFromExport"/>).</param>
    /// <param name="entryCheck">Null when an entry's bytes are acceptable, or a sentence why not; by default
    /// <see cref="CanonicalJsonEntry"/>. It gets each line without its newline, in a buffer reused for the next line: copy
    /// it to keep it.</param>
    /// <param name="entryTime">An entry's time, read from its bytes (called after <paramref name="entryCheck"/> accepted them);
    /// when given, each entry must be dated no later than the first head that covers it and no earlier than the head before
    /// that, within <see cref="TreeHeadCosigner.MaxClockSkew"/>: head times are bounded by the co-signing countries' clocks,
    /// so entries cannot be post- or back-dated past them.</param>
    /// <exception cref="ArgumentException">The trusted keys are not P-256 SubjectPublicKeyInfos, or a trusted country code
    /// is not two capital letters (the caller's input, not the export's).</exception>
    public static AuditVerification Verify(string directory, AuditTrust? trust = null, Func<ReadOnlyMemory<byte>, string?>? entryCheck = null,
        Func<ReadOnlyMemory<byte>, DateTimeOffset>? entryTime = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (trust is not null)
            CheckTrust(trust);
        var run = new Run(directory, trust, entryCheck ?? CanonicalJsonEntry, entryTime);
        try
        {
            run.Execute();
            return run.Result(null);
        }
        catch (ExportProblem problem)
        {
            return run.Result(problem.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return run.Result($"the export could not be read: {e.Message}");
        }
    }

    private static void CheckTrust(AuditTrust trust)
    {
        ArgumentNullException.ThrowIfNull(trust.OperatorKey);
        ArgumentNullException.ThrowIfNull(trust.CountryKeys);
        if (!Formats.IsP256PublicKey([.. trust.OperatorKey]))
            throw new ArgumentException("The trusted operator key is not a P-256 SubjectPublicKeyInfo (91 bytes, uncompressed point).", nameof(trust));
        foreach (var (country, key) in trust.CountryKeys)
        {
            if (!Formats.IsCountryCode(country))
                throw new ArgumentException($"The trusted key's country '{country}' is not a country code (two capital letters).", nameof(trust));
            if (key is null || !Formats.IsP256PublicKey([.. key]))
                throw new ArgumentException($"The trusted key of {country} is not a P-256 SubjectPublicKeyInfo (91 bytes, uncompressed point).", nameof(trust));
        }
    }

    private sealed class ExportProblem(string message) : Exception(message);

    private sealed class Run(string directory, AuditTrust? trust, Func<ReadOnlyMemory<byte>, string?> entryCheck, Func<ReadOnlyMemory<byte>, DateTimeOffset>? entryTime)
    {
        private readonly List<DateTimeOffset> _times = [];
        private readonly MerkleTree _tree = new();
        private readonly List<string> _headFiles = [];
        private readonly List<string> _countryFiles = [];
        private readonly List<HeadMissingCosignatures> _missing = [];
        private byte[]? _operatorKey;
        private SortedDictionary<string, byte[]> _countryKeys = new(StringComparer.Ordinal);
        private bool _hasMembership;
        private int _headsVerified;
        private TreeHead? _lastHead;

        public AuditVerification Result(string? problem) => new(
            problem is null, problem, _tree.Size, _headsVerified, _countryKeys.Count, [.. _countryKeys.Keys],
            trust is null, _hasMembership, [.. _missing], problem is null ? _lastHead : null);

        private static ExportProblem Fail(string message) => new(message);

        public void Execute()
        {
            // Cheap checks first, signatures last: a defect is found before any signature is verified where it can be.
            ListFiles();
            ReadKeys();
            var membership = _hasMembership ? ReadMembership() : default;
            ReadEntries();
            var heads = ReadHeads();
            VerifyHeadSignatures(heads);
            if (_hasMembership)
                VerifyMembership(membership);
        }

        // ---- Files present and nothing else ------------------------------------------------------------------

        private void ListFiles()
        {
            var root = new DirectoryInfo(directory);
            if (!root.Exists)
                throw Fail($"{directory}: no such directory");
            bool entries = false, heads = false, keys = false;
            foreach (var item in Sorted(root))
            {
                string name = item.Name;
                switch (name)
                {
                    case AuditExport.EntriesFile:
                        RequireFile(item, name);
                        entries = true;
                        break;
                    case AuditExport.MembershipFile:
                        RequireFile(item, name);
                        _hasMembership = true;
                        break;
                    case AuditExport.HeadsFolder:
                        RequireFolder(item, name);
                        heads = true;
                        break;
                    case AuditExport.KeysFolder:
                        RequireFolder(item, name);
                        keys = true;
                        break;
                    default:
                        throw Fail($"{name}{(item is DirectoryInfo ? "/" : "")}: an unexpected {Kind(item)}; an export holds only {AuditExport.EntriesFile}, {AuditExport.HeadsFolder}/, {AuditExport.KeysFolder}/ and {AuditExport.MembershipFile}");
                }
            }
            if (!entries)
                throw Fail($"{AuditExport.EntriesFile}: missing");
            if (!heads)
                throw Fail($"{AuditExport.HeadsFolder}/: missing");
            if (!keys)
                throw Fail($"{AuditExport.KeysFolder}/: missing");

            foreach (var item in Sorted(new DirectoryInfo(Path.Combine(directory, AuditExport.HeadsFolder))))
            {
                string name = $"{AuditExport.HeadsFolder}/{item.Name}";
                if (!HeadName.IsMatch(item.Name))
                    throw Fail($"{name}{(item is DirectoryInfo ? "/" : "")}: an unexpected {Kind(item)}; {AuditExport.HeadsFolder}/ holds only heads named by their size in 12 digits, e.g. 000000000009.json");
                RequireFile(item, name);
                _headFiles.Add(item.Name);
            }
            if (_headFiles.Count == 0)
                throw Fail($"{AuditExport.HeadsFolder}/: holds no signed tree head, so nothing in the export is signed");

            bool operatorKey = false;
            foreach (var item in Sorted(new DirectoryInfo(Path.Combine(directory, AuditExport.KeysFolder))))
            {
                string name = $"{AuditExport.KeysFolder}/{item.Name}";
                if (item.Name == AuditExport.OperatorKeyFile)
                    operatorKey = true;
                else if (CountryKeyName.IsMatch(item.Name))
                    _countryFiles.Add(item.Name);
                else
                    throw Fail($"{name}{(item is DirectoryInfo ? "/" : "")}: an unexpected {Kind(item)}; {AuditExport.KeysFolder}/ holds only {AuditExport.OperatorKeyFile} and a CC.pub per co-signing country (two capital letters)");
                RequireFile(item, name);
            }
            if (!operatorKey)
                throw Fail($"{AuditExport.KeysFolder}/{AuditExport.OperatorKeyFile}: missing");
        }

        private static IEnumerable<FileSystemInfo> Sorted(DirectoryInfo folder) =>
            folder.EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal);

        private static string Kind(FileSystemInfo item) => item.LinkTarget is not null ? "link" : item is DirectoryInfo ? "folder" : "file";

        private static void RequireFile(FileSystemInfo item, string name)
        {
            if (item.LinkTarget is not null)
                throw Fail($"{name}: is a link; an export holds only plain files and folders");
            if (item is not FileInfo)
                throw Fail($"{name}: is a folder, not a file");
        }

        private static void RequireFolder(FileSystemInfo item, string name)
        {
            if (item.LinkTarget is not null)
                throw Fail($"{name}: is a link; an export holds only plain files and folders");
            if (item is not DirectoryInfo)
                throw Fail($"{name}: is a file, not a folder");
        }

        private byte[] ReadSmall(string relative, int maxBytes)
        {
            string path = Path.Combine(directory, relative);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > maxBytes)
                throw Fail($"{relative}: is {stream.Length} bytes, more than the {maxBytes} such a file can hold");
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }

        // ---- Keys --------------------------------------------------------------------------------------------

        private void ReadKeys()
        {
            _operatorKey = ReadKey($"{AuditExport.KeysFolder}/{AuditExport.OperatorKeyFile}", "the operator's");
            var keys = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (string file in _countryFiles)
            {
                string country = file[..2];
                keys[country] = ReadKey($"{AuditExport.KeysFolder}/{file}", $"{country}'s");
            }
            if (trust is not null)
            {
                string operatorFile = $"{AuditExport.KeysFolder}/{AuditExport.OperatorKeyFile}";
                if (!_operatorKey.AsSpan().SequenceEqual(trust.OperatorKey))
                    throw Fail($"{operatorFile}: differs from the operator key you trust");
                foreach (string country in keys.Keys.Union(trust.CountryKeys.Keys).Order(StringComparer.Ordinal))
                {
                    string file = $"{AuditExport.KeysFolder}/{AuditExport.CountryKeyFileName(country)}";
                    if (!trust.CountryKeys.TryGetValue(country, out var trusted))
                        throw Fail($"{file}: the export has a key for {country}, but you trust no key for {country}");
                    if (!keys.TryGetValue(country, out var exported))
                        throw Fail($"{file}: missing, but you trust a key for {country}");
                    if (!exported.AsSpan().SequenceEqual(trusted))
                        throw Fail($"{file}: differs from the key you trust for {country}");
                }
            }
            _countryKeys = keys;
        }

        private byte[] ReadKey(string relative, string whose)
        {
            var bytes = ReadSmall(relative, 4096);
            if (!Formats.IsP256PublicKey([.. bytes]))
                throw Fail($"{relative}: is not {whose} public key: a key file holds a P-256 SubjectPublicKeyInfo in DER with an uncompressed point, {KeyFileBytes} bytes");
            try
            {
                using var key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(bytes, out int read);
                if (read != bytes.Length || key.KeySize != 256)
                    throw Fail($"{relative}: is not {whose} P-256 public key");
            }
            catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
            {
                throw Fail($"{relative}: is not {whose} public key: the point is not on the P-256 curve ({e.Message})");
            }
            return bytes;
        }

        // ---- Membership --------------------------------------------------------------------------------------

        private ImmutableArray<MembershipRecord> ReadMembership()
        {
            string file = AuditExport.MembershipFile;
            var bytes = ReadSmall(file, MembershipJson.MaxBytes);
            ImmutableArray<MembershipRecord> records;
            try
            {
                records = MembershipJson.Parse(bytes, file);
            }
            catch (GovernanceFormatException e)
            {
                throw Fail($"{file}: {e.JsonPath}: {e.Problem}");
            }
            byte[] canonical = MembershipJson.Write(records);
            if (!bytes.AsSpan().SequenceEqual(canonical))
                throw Fail($"{file}: is not in its one written form (canonical JSON, laid out as MembershipJson writes it): it differs at byte {bytes.AsSpan().CommonPrefixLength(canonical) + 1}");
            return records;
        }

        private void VerifyMembership(ImmutableArray<MembershipRecord> records)
        {
            string file = AuditExport.MembershipFile;
            try
            {
                MembershipChain.Verify(_operatorKey, records);
            }
            catch (GovernanceException e)
            {
                throw Fail($"{file}: does not verify with the operator key: {e.Message}");
            }
        }

        // ---- Entries -----------------------------------------------------------------------------------------

        private void ReadEntries()
        {
            string path = Path.Combine(directory, AuditExport.EntriesFile);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var buffer = new byte[1 << 16];
            var line = new ArrayBufferWriter<byte>();
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                var chunk = buffer.AsSpan(0, read);
                while (!chunk.IsEmpty)
                {
                    int newline = chunk.IndexOf((byte)'\n');
                    var part = newline < 0 ? chunk : chunk[..newline];
                    if (line.WrittenCount + (long)part.Length > AuditExport.MaxEntryBytes)
                        throw EntryProblem($"is longer than {AuditExport.MaxEntryBytes} bytes");
                    line.Write(part);
                    if (newline < 0)
                        break;
                    Entry(line.WrittenMemory);
                    line.ResetWrittenCount();
                    chunk = chunk[(newline + 1)..];
                }
            }
            if (line.WrittenCount > 0)
                throw EntryProblem($"does not end with a newline: {AuditExport.EntriesFile} was cut short or has content after its last line");
        }

        private ExportProblem EntryProblem(string problem) =>
            Fail($"entry {_tree.Size} ({AuditExport.EntriesFile} line {_tree.Size + 1}): {problem}");

        private void Entry(ReadOnlyMemory<byte> entry)
        {
            var span = entry.Span;
            if (span.IsEmpty)
                throw EntryProblem("is an empty line");
            if (!Utf8.IsValid(span))
                throw EntryProblem("is not valid UTF-8");
            int control = span.IndexOfAnyInRange((byte)0, (byte)0x1f);
            if (control >= 0)
                throw EntryProblem($"holds the control byte 0x{span[control]:x2} at byte {control + 1}; an entry is one line of compact JSON");
            string? why;
            try
            {
                why = entryCheck(entry);
            }
            catch (Exception e)
            {
                why = $"the entry check failed on it ({e.GetType().Name}: {e.Message})";
            }
            if (why is not null)
                throw EntryProblem(why);
            if (entryTime is not null)
                _times.Add(entryTime(entry));
            _tree.AppendEntry(span);
        }

        // ---- Heads -------------------------------------------------------------------------------------------

        /// <summary>Reads every head and checks what needs no signature: its form, its name, the order, and its root against the entries.</summary>
        private List<(string File, SignedTreeHead Signed)> ReadHeads()
        {
            var heads = new List<(string File, SignedTreeHead Signed)>(_headFiles.Count);
            long matched = 0;
            foreach (string name in _headFiles)
            {
                string file = $"{AuditExport.HeadsFolder}/{name}";
                ExportProblem Problem(string problem) => Fail($"head {file}: {problem}");

                var bytes = ReadSmall(file, SignedTreeHead.MaxBytes);
                SignedTreeHead signed;
                try
                {
                    signed = SignedTreeHead.Read(bytes, file);
                }
                catch (AuditFormatException e)
                {
                    throw Problem($"{e.JsonPath}: {e.Problem}");
                }
                var head = signed.Head;
                long named = long.Parse(name.AsSpan(0, AuditExport.HeadNameDigits), System.Globalization.CultureInfo.InvariantCulture);
                if (head.Size != named)
                    throw Problem($"holds a head of size {head.Size}, but its name says {named}");
                if (heads.Count > 0 && heads[^1] is var (previousFile, previous))
                {
                    if (head.Size <= previous.Head.Size)
                        throw Problem($"its size {head.Size} does not exceed {previous.Head.Size}, the size of {previousFile}: heads must grow");
                    if (head.Time < previous.Head.Time)
                        throw Problem($"its time {TreeHead.FormatTime(head.Time)} is earlier than {TreeHead.FormatTime(previous.Head.Time)}, the time of {previousFile}: time must not go backwards");
                }
                if (head.Size > _tree.Size)
                    throw Problem($"covers {head.Size} entries, but {AuditExport.EntriesFile} holds only {_tree.Size}: entries are missing");
                var root = _tree.RootAt(head.Size);
                if (!CryptographicOperations.FixedTimeEquals(root, head.RootSpan))
                    throw Problem($"its root {head.RootHex} is not the root of the first {head.Size} entries of {AuditExport.EntriesFile} ({Convert.ToHexStringLower(root)}): " +
                        (matched == 0
                            ? $"among entries 0 to {head.Size - 1} one was changed, removed, added or reordered, or the head was made for other entries"
                            : $"the first {matched} entries match {heads[^1].File}, so among entries {matched} to {head.Size - 1} (lines {matched + 1} to {head.Size}) one was changed, removed, added or reordered, or the head was made for other entries"));
                if (entryTime is not null)
                    CheckTimes(matched, head, heads.Count > 0 ? heads[^1].Signed.Head : null, Problem);
                matched = head.Size;
                heads.Add((file, signed));
            }
            var (lastFile, last) = heads[^1];
            if (_tree.Size != last.Head.Size)
                throw Fail($"{AuditExport.EntriesFile}: holds {_tree.Size} entries, but the last head, {lastFile}, covers {last.Head.Size}: entries {last.Head.Size} to {_tree.Size - 1} are not covered by any signed head");
            return heads;
        }

        /// <summary>Entries <paramref name="from"/> to the head's size are dated between the head before (less the skew) and this head (plus it).</summary>
        private void CheckTimes(long from, TreeHead head, TreeHead? previous, Func<string, ExportProblem> problem)
        {
            var skew = TreeHeadCosigner.MaxClockSkew;
            for (long i = from; i < head.Size; i++)
            {
                var time = _times[(int)i];
                if (time > head.Time + skew)
                    throw problem($"entry {i} ({AuditExport.EntriesFile} line {i + 1}) is dated {TreeHead.FormatTime(time)}, after this head that first covers it " +
                        $"({TreeHead.FormatTime(head.Time)}) by more than {skew.TotalMinutes:0} minutes: it was dated later than it was logged");
                if (previous is not null && time < previous.Time - skew)
                    throw problem($"entry {i} ({AuditExport.EntriesFile} line {i + 1}) is dated {TreeHead.FormatTime(time)}, before the head before this one " +
                        $"({TreeHead.FormatTime(previous.Time)}) by more than {skew.TotalMinutes:0} minutes, yet that head does not cover it: it was back-dated");
            }
        }

        /// <summary>The operator's signature and every co-signature on every head; the last head co-signed by every country that has a key.</summary>
        private void VerifyHeadSignatures(List<(string File, SignedTreeHead Signed)> heads)
        {
            for (int h = 0; h < heads.Count; h++)
            {
                var (file, signed) = heads[h];
                bool last = h == heads.Count - 1;
                var verdict = signed.Verify(_operatorKey!, _countryKeys, requireEveryCountry: last);
                if (!verdict.IsValid)
                    throw Fail($"head {file}: " + verdict.Fault switch
                    {
                        TreeHeadFault.UnknownCountry => $"{verdict.Reason} ({AuditExport.KeysFolder}/{AuditExport.CountryKeyFileName(verdict.Country!)} is not in the export)",
                        TreeHeadFault.MissingCosignature => $"{verdict.Reason}; the last head must be co-signed by every country that has a key",
                        _ => verdict.Reason,
                    });
                var absent = _countryKeys.Keys.Where(c => !signed.Cosignatures.ContainsKey(c)).ToList();
                if (absent.Count > 0)
                    _missing.Add(new HeadMissingCosignatures(file, signed.Head.Size, absent));
                _lastHead = signed.Head;
                _headsVerified++;
            }
        }
    }
}
