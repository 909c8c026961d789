using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Audit.Entries;
using FedCore.Governance;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Reports;

/// <summary>What <see cref="AuditReportVerifier.Verify"/> found: <see cref="Ok"/>, or the first <see cref="Problem"/> as a sentence.</summary>
public sealed record AuditReportVerification(bool Ok, string? Problem, AuditReport? Report, bool Complete)
{
    internal static AuditReportVerification Refused(string problem) => new(false, problem, null, false);

    public override string ToString() => Ok ? $"valid{(Complete ? ", complete against the log given" : "")}" : Problem!;
}

/// <summary>
/// Checks a report's JSON form (<see cref="AuditReportJson"/>) offline, with the operator's key and the countries' keys,
/// stopping at the first failure and naming it:
/// <list type="number">
/// <item>the document's form (closed-world: unknown, missing or repeated fields, wrong types, named by JSON path);</item>
/// <item>the signed tree head: its one written form, the operator's signature and every country's co-signature;</item>
/// <item>each cited entry: an audit entry in its one written form, indices increasing and below the head's size, and its
/// inclusion proof leading from its leaf to the head's root;</item>
/// <item>the cited entries are exactly what the scope takes from them (none from outside the scope);</item>
/// <item>the content: the sections rebuilt from the cited entries alone equal the report's, cell by cell (naming the
/// section, table, row, column, and both values);</item>
/// <item>the bytes: the document is the one <see cref="AuditReportJson.Write"/> gives for what it holds;</item>
/// <item>optionally, completeness: given the log's entries (e.g. an export's), their root equals the head's and the scope
/// takes from them exactly the cited entries (none left out).</item>
/// </list>
/// </summary>
public static class AuditReportVerifier
{
    /// <summary>Larger documents are refused unread.</summary>
    public const int MaxBytes = 256 << 20;

    public static AuditReportVerification Verify(string reportJson, byte[] operatorKey, IReadOnlyDictionary<string, byte[]> countryKeys,
        IReadOnlyList<byte[]>? logEntries = null) =>
        Verify(Encoding.UTF8.GetBytes(reportJson ?? throw new ArgumentNullException(nameof(reportJson))), operatorKey, countryKeys, logEntries);

    /// <param name="operatorKey">The operator's public key (SubjectPublicKeyInfo DER), obtained from the operator, not from the report.</param>
    /// <param name="countryKeys">Each co-signing country's silo key, obtained from the countries; every one must have co-signed the head.</param>
    /// <param name="logEntries">The whole log (at least the head's size), to check that the report leaves nothing in scope out; null to skip.</param>
    public static AuditReportVerification Verify(byte[] reportJson, byte[] operatorKey, IReadOnlyDictionary<string, byte[]> countryKeys,
        IReadOnlyList<byte[]>? logEntries = null)
    {
        ArgumentNullException.ThrowIfNull(reportJson);
        ArgumentNullException.ThrowIfNull(operatorKey);
        ArgumentNullException.ThrowIfNull(countryKeys);
        try
        {
            return Check(reportJson, operatorKey, countryKeys, logEntries);
        }
        catch (GovernanceFormatException e)
        {
            return AuditReportVerification.Refused($"report: {e.JsonPath}: {e.Problem}");
        }
        catch (AuditFormatException e)
        {
            return AuditReportVerification.Refused($"{e.SourceName}: {e.JsonPath}: {e.Problem}");
        }
    }

    private sealed record Carried(long Index, byte[] Bytes, AuditEntry Entry, ImmutableArray<ImmutableArray<byte>> Proof);

    private static AuditReportVerification Check(byte[] json, byte[] operatorKey, IReadOnlyDictionary<string, byte[]> countryKeys, IReadOnlyList<byte[]>? log)
    {
        const string source = "report";
        AuditReportScope scope;
        SignedTreeHead head;
        var carried = new List<Carried>();
        JsonNode sectionsNode;
        string title;
        using (var document = JsonInput.Parse(json, source, MaxBytes))
        {
            var root = JsonFields.Of(document.RootElement, source, "$", "entries", "format", "scope", "sections", "signedTreeHead", "title");
            string format = root.Text("format");
            if (format != AuditReportJson.Format)
                throw root.Error("format", $"\"{format}\" is not {AuditReportJson.Format}");
            title = root.Text("title");
            scope = ReadScope(root);

            // The head: its one written form, then its signatures.
            string headText = JsonFields.ReadText(root.Required("signedTreeHead"), source, root.At("signedTreeHead"));
            head = SignedTreeHead.Read(Encoding.UTF8.GetBytes(headText), "report: $.signedTreeHead");
            var verdict = head.Verify(operatorKey, countryKeys);
            if (!verdict.IsValid)
                return AuditReportVerification.Refused($"signed tree head ({head.Head}): {verdict}");

            // Each entry: readable, in order, under the head, proven.
            long previous = -1;
            var entries = root.Required("entries");
            if (entries.ValueKind != JsonValueKind.Array)
                throw root.Error("entries", $"must be an array, not {JsonFields.Describe(entries)}");
            int position = 0;
            foreach (var element in entries.EnumerateArray())
            {
                string path = $"$.entries[{position++}]";
                var item = JsonFields.Of(element, source, path, "bytes", "index", "proof");
                long index = item.Integer("index", 0, long.MaxValue);
                if (index <= previous)
                    throw item.Error("index", $"{index} does not come after {previous}: entries are cited once each, in index order");
                if (index >= head.Head.Size)
                    throw item.Error("index", $"{index} is not under the signed tree head, which covers entries 0 to {head.Head.Size - 1}");
                previous = index;
                byte[] bytes = Encoding.UTF8.GetBytes(JsonFields.ReadText(item.Required("bytes"), source, item.At("bytes")));
                var entry = AuditEntryJson.Read(bytes, $"entry {index} (report: {path}.bytes)");
                var proof = item.Array("proof", (hash, at) => Formats.IsDigest(JsonFields.ReadText(hash, source, at))
                    ? ImmutableArray.Create(Convert.FromHexString(hash.GetString()!))
                    : throw new GovernanceFormatException(source, at, "is not a SHA-256 hash in 64 lower-case hex digits"));
                var inclusion = MerkleProofs.VerifyInclusion(MerkleTree.HashLeaf(bytes), index, head.Head.Size, [.. proof.Select(h => h.ToArray())], head.Head.RootSpan);
                if (!inclusion.IsValid)
                    return AuditReportVerification.Refused(
                        $"entry {index} ({entry.WireName}, {path}): its inclusion proof does not lead to the signed head's root ({inclusion}): " +
                        "the entry is not the log's entry at that index (changed, moved, or from another log), or the proof was altered");
                carried.Add(new Carried(index, bytes, entry, proof));
            }
            sectionsNode = JsonNode.Parse(root.Required("sections").GetRawText())!;
        }

        var cited = carried.Select(c => new CitedEntry(c.Index, [.. c.Bytes], c.Entry, c.Proof)).ToImmutableArray();

        // The cited entries are what the scope takes from them.
        var selected = AuditReportSelection.Select(scope, [.. cited.Select(c => (c.Index, c.Entry))]);
        foreach (var c in cited)
            if (!selected.Contains(c.Index))
                return AuditReportVerification.Refused($"entry {c.Index} ({c.Entry.WireName}) is not in the report's scope ({scope.Describe()}): a report cites only entries of its scope");

        // Every line cites entries the report carries.
        if (UncarriedCite(sectionsNode, cited.Select(c => c.Index).ToHashSet()) is { } uncarried)
            return AuditReportVerification.Refused(uncarried);

        // The content is what the cited entries say.
        var rebuilt = AuditReportBuilder.Assemble(scope, head, cited);
        if (title != rebuilt.Title)
            return AuditReportVerification.Refused($"$.title: the report says \"{title}\" but its scope gives \"{rebuilt.Title}\"");
        if (CompareSections(sectionsNode, AuditReportJson.SectionsJson(rebuilt)) is { } difference)
            return AuditReportVerification.Refused(difference);

        // One written form.
        var canonical = AuditReportJson.Write(rebuilt);
        if (!json.AsSpan().SequenceEqual(canonical))
            return AuditReportVerification.Refused(
                $"report: the content holds, but the document is not in its one written form: it differs at byte {json.AsSpan().CommonPrefixLength(canonical) + 1}");

        // Completeness against the whole log, when given.
        if (log is not null)
        {
            long size = head.Head.Size;
            if (log.Count < size)
                return AuditReportVerification.Refused($"log: {log.Count} entries given, but the head covers {size}");
            var tree = MerkleTree.FromEntries(log.Take((int)size));
            if (!tree.Root.AsSpan().SequenceEqual(head.Head.RootSpan))
                return AuditReportVerification.Refused($"log: the root of its first {size} entries is not the signed head's root: it is not the log the report is on");
            var all = new List<(long, AuditEntry)>((int)size);
            for (int i = 0; i < size; i++)
                all.Add((i, AuditEntryJson.Read(log[i], $"log entry {i}")));
            var expected = AuditReportSelection.Select(scope, all);
            var missing = expected.Except(cited.Select(c => c.Index)).ToList();
            if (missing.Count > 0)
                return AuditReportVerification.Refused(
                    $"entry {missing[0]} ({all[(int)missing[0]].Item2.WireName}) is in the report's scope but the report leaves it out" +
                    (missing.Count > 1 ? $" ({missing.Count} entries in all: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")})" : ""));
        }
        return new AuditReportVerification(true, null, rebuilt, log is not null);
    }

    private static AuditReportScope ReadScope(JsonFields root)
    {
        var scope = root.Object("scope", "agreement", "from", "job", "kind", "round", "to");
        string kind = scope.Text("kind");
        try
        {
            return kind switch
            {
                "job" => Only(scope, ["job"], () => AuditReportScope.ForJob(scope.Text("job"))),
                "round" => Only(scope, ["job", "round"], () => AuditReportScope.ForRound(scope.Text("job"), (int)scope.Integer("round", 1, int.MaxValue))),
                "agreement" => Only(scope, ["agreement"], () => AuditReportScope.ForAgreement(scope.Text("agreement"))),
                "period" => Only(scope, ["from", "to"], () => AuditReportScope.ForPeriod(ReadTime(scope, "from"), ReadTime(scope, "to"))),
                _ => throw scope.Error("kind", $"\"{kind}\" is not one of job, round, agreement, period"),
            };
        }
        catch (ArgumentException e)
        {
            throw new GovernanceFormatException("report", "$.scope", e.Message);
        }
    }

    private static AuditReportScope Only(JsonFields scope, string[] fields, Func<AuditReportScope> make)
    {
        foreach (var other in new[] { "agreement", "from", "job", "round", "to" }.Except(fields))
            if (scope.Has(other))
                throw scope.Error(other, "is not a field of this kind of scope");
        return make();
    }

    private static DateTimeOffset ReadTime(JsonFields fields, string name)
    {
        string text = fields.Text(name);
        return TreeHead.TryParseTime(text, out var time) ? time : throw fields.Error(name, $"\"{text}\" is not a UTC time of the form 2025-03-01T09:00:00.250Z");
    }

    /// <summary>The first line or row that cites an entry the report does not carry (so nothing ties it to the log).</summary>
    private static string? UncarriedCite(JsonNode sections, HashSet<long> carried)
    {
        if (sections is not JsonArray list)
            return null;
        foreach (var section in list.OfType<JsonObject>())
        {
            string name = $"section {section["id"]?.ToJsonString()}";
            IEnumerable<(string, JsonNode?)> cites =
            [
                .. (section["lines"] as JsonArray ?? []).Select((line, i) => ($"{name}, line {i + 1}", line?["cites"])),
                .. (section["tables"] as JsonArray ?? []).OfType<JsonObject>().SelectMany(table =>
                    (table["rows"] as JsonArray ?? []).Select((row, i) => ($"{name}, table {table["title"]?.ToJsonString()}, row {i + 1}", row?["cites"]))),
            ];
            foreach (var (where, node) in cites)
                foreach (var cite in node as JsonArray ?? [])
                    if (cite is JsonValue value && value.TryGetValue<long>(out long index) && !carried.Contains(index))
                        return $"{where} cites entry {index}, which the report does not carry: nothing ties that line to the log (an entry dropped from the report?)";
        }
        return null;
    }

    /// <summary>The first difference between the report's sections and the rebuilt ones, named for a person; null when equal.</summary>
    private static string? CompareSections(JsonNode found, JsonArray expected)
    {
        if (found is not JsonArray sections)
            return "$.sections: must be an array of sections";
        for (int s = 0; s < Math.Max(sections.Count, expected.Count); s++)
        {
            if (s >= expected.Count)
                return $"$.sections[{s}]: the report has a section the cited entries do not give";
            var want = expected[s]!.AsObject();
            string name = $"section \"{want["id"]}\" (\"{want["title"]}\")";
            if (s >= sections.Count)
                return $"{name} is missing from the report";
            if (sections[s] is not JsonObject have)
                return $"$.sections[{s}]: must be an object";
            foreach (var field in new[] { "id", "title", "act" })
                if (!JsonNode.DeepEquals(have[field], want[field]))
                    return $"{name}: its {field} is {Show(have[field])} in the report, but {Show(want[field])} in a report built from the cited entries";
            if (CompareList(have["lines"], want["lines"]!.AsArray(), $"{name}, line", (h, w, at) => CompareRow(h, w, at, "text", null)) is { } lineProblem)
                return lineProblem;
            var wantTables = want["tables"]!.AsArray();
            if (have["tables"] is not JsonArray haveTables)
                return $"{name}: its tables must be an array";
            for (int t = 0; t < Math.Max(haveTables.Count, wantTables.Count); t++)
            {
                if (t >= wantTables.Count)
                    return $"{name}: table {t + 1} is not one the cited entries give";
                var wt = wantTables[t]!.AsObject();
                string tableName = $"{name}, table \"{wt["title"]}\"";
                if (t >= haveTables.Count || haveTables[t] is not JsonObject ht)
                    return $"{tableName} is missing from the report";
                if (!JsonNode.DeepEquals(ht["title"], wt["title"]) || !JsonNode.DeepEquals(ht["columns"], wt["columns"]))
                    return $"{tableName}: its title or columns differ from a report built from the cited entries";
                var columns = wt["columns"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray();
                if (CompareList(ht["rows"], wt["rows"]!.AsArray(), $"{tableName}, row", (h, w, at) => CompareRow(h, w, at, "cells", columns)) is { } rowProblem)
                    return rowProblem;
            }
        }
        return null;
    }

    private static string? CompareList(JsonNode? found, JsonArray expected, string what, Func<JsonObject, JsonObject, string, string?> compare)
    {
        if (found is not JsonArray have)
            return $"{what}s: must be an array";
        for (int i = 0; i < Math.Max(have.Count, expected.Count); i++)
        {
            string at = $"{what} {i + 1}";
            // One removed or added: name it rather than every one after it.
            if (have.Count < expected.Count && i < have.Count && !JsonNode.DeepEquals(have[i], expected[i]) && JsonNode.DeepEquals(have[i], expected[i + 1]))
                return $"{at} ({Show(expected[i])}) is missing from the report";
            if (have.Count > expected.Count && i < expected.Count && !JsonNode.DeepEquals(have[i], expected[i]) && JsonNode.DeepEquals(have[i + 1], expected[i]))
                return $"{at}: the report has it, but the cited entries do not give it ({Show(have[i])})";
            if (i >= expected.Count)
                return $"{at}: the report has it, but the cited entries do not give it ({Show(have[i])})";
            if (i >= have.Count)
                return $"{at} ({Show(expected[i])}) is missing from the report";
            if (have[i] is not JsonObject h)
                return $"{at}: must be an object";
            if (compare(h, expected[i]!.AsObject(), at) is { } problem)
                return problem;
        }
        return null;
    }

    private static string? CompareRow(JsonObject have, JsonObject want, string at, string contentField, string[]? columns)
    {
        string cites = string.Join(", ", want["cites"]!.AsArray().Select(c => c!.ToJsonString()));
        string where = $"{at} (from entries {cites})";
        if (have.Count != want.Count || have.Any(p => !want.ContainsKey(p.Key)))
            return $"{where}: has fields {string.Join(", ", have.Select(p => p.Key))}, not {string.Join(", ", want.Select(p => p.Key))}";
        if (columns is null)
        {
            if (!JsonNode.DeepEquals(have["text"], want["text"]))
                return $"{where}: {Differ(have["text"], want["text"])}";
        }
        else
        {
            if (have["cells"] is not JsonArray hc || hc.Count != columns.Length)
                return $"{where}: must have {columns.Length} cells";
            var wc = want["cells"]!.AsArray();
            for (int c = 0; c < columns.Length; c++)
                if (!JsonNode.DeepEquals(hc[c], wc[c]))
                    return $"{where}, column \"{columns[c]}\": {Differ(hc[c], wc[c])}";
        }
        if (!JsonNode.DeepEquals(have["cites"], want["cites"]))
            return $"{at}: cites entries {Show(have["cites"])}, but it comes from entries [{cites}]";
        return null;
    }

    /// <summary>"the report says …, but the cited entries say …", around the first character that differs when the texts are long.</summary>
    private static string Differ(JsonNode? have, JsonNode? want)
    {
        if (have is JsonValue h && h.TryGetValue<string>(out var a) && want is JsonValue w && w.TryGetValue<string>(out var b) && (a.Length > 80 || b.Length > 80))
        {
            int at = a.AsSpan().CommonPrefixLength(b);
            int from = Math.Max(0, at - 30);
            string Around(string text) => (from > 0 ? "…" : "") + text[from..Math.Min(text.Length, at + 30)] + (at + 30 < text.Length ? "…" : "");
            return $"the report says \"{Around(a)}\", but the cited entries say \"{Around(b)}\" (character {at + 1} differs)";
        }
        return $"the report says {Show(have)}, but the cited entries say {Show(want)}";
    }

    private static string Show(JsonNode? node)
    {
        string text = node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "nothing";
        return text.Length <= 200 ? text : text[..200] + "…";
    }
}
