using System.Text.Json.Nodes;

namespace FedCore.Audit.Reports;

/// <summary>What a report covers.</summary>
public enum AuditReportScopeKind
{
    /// <summary>One job: every entry naming it, its agreement's transitions, its datasets, the policy sets its decisions used.</summary>
    Job,
    /// <summary>One model round of one job: the job's context and the entries of that round (all its attempts).</summary>
    Round,
    /// <summary>One agreement: its transitions and signatures, and every job started under it.</summary>
    Agreement,
    /// <summary>Every entry whose time is in [from, to).</summary>
    Period,
}

/// <summary>A report's scope: a job, a round of a job, an agreement, or a period [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record AuditReportScope
{
    private AuditReportScope(AuditReportScopeKind kind, string? job, int? round, string? agreement, DateTimeOffset? from, DateTimeOffset? to)
    {
        Kind = kind;
        Job = job;
        Round = round;
        Agreement = agreement;
        From = from;
        To = to;
    }

    public AuditReportScopeKind Kind { get; }

    public string? Job { get; }

    /// <summary>The model round (round r makes version r), for <see cref="AuditReportScopeKind.Round"/>.</summary>
    public int? Round { get; }

    public string? Agreement { get; }

    /// <summary>The period's first instant (included), UTC whole milliseconds.</summary>
    public DateTimeOffset? From { get; }

    /// <summary>The period's end (excluded).</summary>
    public DateTimeOffset? To { get; }

    /// <exception cref="ArgumentException">Not an identifier as entries write them.</exception>
    public static AuditReportScope ForJob(string job) => new(AuditReportScopeKind.Job, CheckId(job, nameof(job)), null, null, null, null);

    /// <exception cref="ArgumentException">Not an identifier, or a round below 1.</exception>
    public static AuditReportScope ForRound(string job, int round) =>
        round >= 1
            ? new(AuditReportScopeKind.Round, CheckId(job, nameof(job)), round, null, null, null)
            : throw new ArgumentOutOfRangeException(nameof(round), round, "A round is 1 or more.");

    /// <exception cref="ArgumentException">Not an identifier as entries write them.</exception>
    public static AuditReportScope ForAgreement(string agreement) =>
        new(AuditReportScopeKind.Agreement, null, null, CheckId(agreement, nameof(agreement)), null, null);

    /// <summary>Entries whose time t has <paramref name="from"/> ≤ t &lt; <paramref name="to"/>; both taken to UTC and truncated to the millisecond.</summary>
    /// <exception cref="ArgumentException"><paramref name="to"/> is not after <paramref name="from"/>, or a time before 1970.</exception>
    public static AuditReportScope ForPeriod(DateTimeOffset from, DateTimeOffset to)
    {
        var f = DateTimeOffset.FromUnixTimeMilliseconds(from.ToUnixTimeMilliseconds());
        var t = DateTimeOffset.FromUnixTimeMilliseconds(to.ToUnixTimeMilliseconds());
        if (f < DateTimeOffset.UnixEpoch)
            throw new ArgumentException("The period starts before 1970.", nameof(from));
        if (t <= f)
            throw new ArgumentException($"The period must end after it starts ({TreeHead.FormatTime(f)} to {TreeHead.FormatTime(t)}).", nameof(to));
        return new(AuditReportScopeKind.Period, null, null, null, f, t);
    }

    private static string CheckId(string id, string name) =>
        Entries.AuditValue.IdentifierProblem(id) is { } problem ? throw new ArgumentException(problem, name) : id;

    /// <summary>The scope as one line for titles: <c>job HU/diabetes</c>, <c>round 3 of job HU/diabetes</c>, …</summary>
    public string Describe() => Kind switch
    {
        AuditReportScopeKind.Job => $"job {Job}",
        AuditReportScopeKind.Round => $"round {Round} of job {Job}",
        AuditReportScopeKind.Agreement => $"agreement {Agreement}",
        _ => $"period {TreeHead.FormatTime(From!.Value)} to {TreeHead.FormatTime(To!.Value)}",
    };

    internal JsonObject ToJson()
    {
        var json = new JsonObject { ["kind"] = Kind.ToString().ToLowerInvariant() };
        if (Job is not null)
            json["job"] = Job;
        if (Round is not null)
            json["round"] = Round.Value;
        if (Agreement is not null)
            json["agreement"] = Agreement;
        if (From is not null)
            json["from"] = TreeHead.FormatTime(From.Value);
        if (To is not null)
            json["to"] = TreeHead.FormatTime(To.Value);
        return json;
    }

    public override string ToString() => Describe();
}
