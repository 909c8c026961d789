using FedCore.Audit.Entries;

namespace FedCore.Audit.Reports;

/// <summary>
/// Which entries a scope takes. Applied to the whole log by the builder, and again to the cited entries alone by the
/// verifier: the result must be the same, so the rules only look at entries they themselves take (a closure).
/// </summary>
internal static class AuditReportSelection
{
    public static SortedSet<long> Select(AuditReportScope scope, IReadOnlyList<(long Index, AuditEntry Entry)> entries) => scope.Kind switch
    {
        AuditReportScopeKind.Job => WithContext(entries, JobEntries(entries, scope.Job!, null)),
        AuditReportScopeKind.Round => WithContext(entries, JobEntries(entries, scope.Job!, scope.Round)),
        AuditReportScopeKind.Agreement => AgreementEntries(entries, scope.Agreement!),
        _ => [.. entries.Where(e => e.Entry.Time >= scope.From!.Value && e.Entry.Time < scope.To!.Value).Select(e => e.Index)],
    };

    private static SortedSet<long> JobEntries(IReadOnlyList<(long Index, AuditEntry Entry)> entries, string job, int? round)
    {
        var taken = new SortedSet<long>();
        foreach (var (index, entry) in entries)
        {
            if (entry.Str("job") != job)
                continue;
            if (round is { } r)
            {
                bool keep = entry.Kind switch
                {
                    AuditEventKind.ModelExported or AuditEventKind.PredictionsMade or AuditEventKind.ModelExplained => entry.Int("version") == r,
                    _ => entry.Int("round") is not { } own || own == r,
                };
                if (!keep)
                    continue;
            }
            taken.Add(index);
        }
        return taken;
    }

    private static SortedSet<long> AgreementEntries(IReadOnlyList<(long Index, AuditEntry Entry)> entries, string agreement)
    {
        var jobs = entries.Where(e => e.Entry.Kind == AuditEventKind.JobStarted && e.Entry.Str("agreement") == agreement)
            .Select(e => e.Entry.Str("job")!).ToHashSet(StringComparer.Ordinal);
        var taken = new SortedSet<long>(entries.Where(e => e.Entry.Str("job") is { } job && jobs.Contains(job)).Select(e => e.Index));
        var result = WithContext(entries, taken);
        foreach (var (index, entry) in entries)
            if (IsAgreementKind(entry.Kind) && entry.Str("agreement") == agreement)
                result.Add(index);
        return result;
    }

    /// <summary>Adds what the taken entries refer to: their agreements' transitions, their datasets' registrations, the policy sets their decisions used, their participants' admissions.</summary>
    private static SortedSet<long> WithContext(IReadOnlyList<(long Index, AuditEntry Entry)> entries, SortedSet<long> taken)
    {
        var agreements = new HashSet<string>(StringComparer.Ordinal);
        var datasets = new HashSet<(string, string)>();
        var setHashes = new HashSet<string>(StringComparer.Ordinal);
        var organisations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (index, entry) in entries)
        {
            if (!taken.Contains(index))
                continue;
            switch (entry.Kind)
            {
                case AuditEventKind.JobStarted:
                    agreements.Add(entry.Str("agreement")!);
                    organisations.UnionWith(entry.List("participants"));
                    break;
                case AuditEventKind.ParticipantConsented:
                    datasets.Add((entry.Str("participant")!, entry.Str("dataset")!));
                    break;
                case AuditEventKind.PrivacyReserved:
                    datasets.Add((entry.Str("organisation")!, entry.Str("dataset")!));
                    organisations.Add(entry.Str("organisation")!);
                    break;
                case AuditEventKind.PolicyDecided:
                    setHashes.Add(entry.Str("setHash")!);
                    break;
            }
            if (entry.Str("participant") is { } participant)
                organisations.Add(participant);
        }
        var result = new SortedSet<long>(taken);
        foreach (var (index, entry) in entries)
        {
            bool context = entry.Kind switch
            {
                _ when IsAgreementKind(entry.Kind) => agreements.Contains(entry.Str("agreement")!),
                AuditEventKind.DatasetRegistered => datasets.Contains((entry.Str("organisation")!, entry.Str("dataset")!)),
                AuditEventKind.PolicySetLoaded => setHashes.Contains(entry.Str("setHash")!),
                AuditEventKind.OrganisationAdmitted or AuditEventKind.OrganisationChanged or AuditEventKind.OrganisationRemoved =>
                    organisations.Contains(entry.Str("organisation")!),
                _ => false,
            };
            if (context)
                result.Add(index);
        }
        return result;
    }

    public static bool IsAgreementKind(AuditEventKind kind) => kind is >= AuditEventKind.AgreementDrafted and <= AuditEventKind.AgreementExpired;
}

/// <summary>Reading an entry's fields by name, whatever their type: text as written, numbers as numbers.</summary>
internal static class AuditEntryFields
{
    public static string? Str(this AuditEntry entry, string field) => entry[field] switch
    {
        null => null,
        { IsList: true } => null,
        { Type: AuditValueType.Digest } value => value.AsDigest.Hex,
        { Type: AuditValueType.Integer } value => value.AsInteger.ToString(System.Globalization.CultureInfo.InvariantCulture),
        { Type: AuditValueType.Number } value => value.ToString(),
        { Type: AuditValueType.Boolean } value => value.AsBoolean ? "true" : "false",
        { Type: AuditValueType.Time } value => TreeHead.FormatTime(value.AsTime),
        var value => value.AsString,
    };

    public static long? Int(this AuditEntry entry, string field) => entry[field] is { IsList: false, Type: AuditValueType.Integer } value ? value.AsInteger : null;

    public static double? Num(this AuditEntry entry, string field) => entry[field] is { IsList: false, Type: AuditValueType.Number } value ? value.AsNumber : null;

    public static IEnumerable<string> List(this AuditEntry entry, string field) =>
        entry[field] is { IsList: true } value
            ? value.Items.Select(item => item.Type switch
            {
                AuditValueType.Digest => item.AsDigest.Hex,
                AuditValueType.Number => item.ToString(),
                _ => item.AsString,
            })
            : [];

    public static IEnumerable<double> Numbers(this AuditEntry entry, string field) =>
        entry[field] is { IsList: true, Type: AuditValueType.Number } value ? value.Items.Select(item => item.AsNumber) : [];
}
