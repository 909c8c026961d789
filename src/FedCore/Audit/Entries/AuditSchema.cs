using System.Collections;
using System.Collections.Immutable;
using System.Text;
using FedCore.Governance.Agreements;

namespace FedCore.Audit.Entries;

/// <summary>
/// One field of a kind: its name, its value type (a scalar or a list of scalars), whether it is required, and the
/// checks on top of the type: the words a word field takes, the range of a number, a list that pairs item by item
/// with another (<see cref="SameLengthAs"/>).
/// </summary>
public sealed record AuditFieldSpec(
    string Name,
    AuditValueType Type,
    bool IsList,
    bool Required,
    ImmutableArray<string> Words,
    long MinInteger,
    long MaxInteger,
    double MinNumber,
    double MaxNumber,
    string? SameLengthAs)
{
    internal AuditFieldSpec Optional() => this with { Required = false };

    internal AuditFieldSpec PairedWith(string other) => this with { SameLengthAs = other };

    /// <summary>For messages and the README: <c>integer ≥ 1</c>, <c>list of organisation</c>, <c>word (allow|deny)</c>.</summary>
    public string Describe()
    {
        string type = Type switch
        {
            AuditValueType.Word => $"word ({string.Join("|", Words)})",
            AuditValueType.Integer when MaxInteger == long.MaxValue => $"integer ≥ {MinInteger}",
            AuditValueType.Integer => $"integer {MinInteger}–{MaxInteger}",
            AuditValueType.Number when double.IsPositiveInfinity(MaxNumber) => $"number ≥ {MinNumber}",
            AuditValueType.Number => $"number {MinNumber}–{MaxNumber}",
            _ => Type.ToString().ToLowerInvariant(),
        };
        return (IsList ? $"list of {type}" : type) + (Required ? "" : ", optional");
    }

    /// <summary>Null when <paramref name="value"/> fits; otherwise the problem, with the item (<c>[2]: …</c>) for a list.</summary>
    internal string? Problem(AuditValue value)
    {
        if (value.Type != Type || value.IsList != IsList)
            return $"must be {(IsList ? "a list of " : "")}{Type}, not {value.Describe()}";
        if (!IsList)
            return ScalarProblem(value);
        var items = value.Items;
        for (int i = 0; i < items.Length; i++)
            if (ScalarProblem(items[i]) is { } problem)
                return $"[{i}]: {problem}";
        return null;
    }

    private string? ScalarProblem(AuditValue value) => Type switch
    {
        AuditValueType.Word when !Words.Contains(value.AsString) => $"\"{value.AsString}\" is not one of {string.Join(", ", Words)}",
        AuditValueType.Integer when value.AsInteger < MinInteger || value.AsInteger > MaxInteger =>
            $"{value.AsInteger} is not {(MaxInteger == long.MaxValue ? $"≥ {MinInteger}" : $"from {MinInteger} to {MaxInteger}")}",
        AuditValueType.Number when !(value.AsNumber >= MinNumber && value.AsNumber <= MaxNumber) =>
            $"{value} is not {(double.IsPositiveInfinity(MaxNumber) ? $"≥ {MinNumber}" : $"from {MinNumber} to {MaxNumber}")}",
        _ => null,
    };

    /// <summary>A caller's plain value (string, long, double, bool, time, digest, enum, or a sequence of these) as this field's type.</summary>
    internal AuditValue Convert(object raw)
    {
        if (raw is AuditValue value)
            return value;
        if (!IsList)
            return Scalar(raw);
        if (raw is string || raw is not IEnumerable sequence)
            throw new ArgumentException($"must be a list of {Type}, not {raw.GetType().Name}");
        var items = new List<AuditValue>();
        foreach (var item in sequence)
        {
            try
            {
                items.Add(Scalar(item ?? throw new ArgumentException("is null")));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"[{items.Count}]: {e.Message}", e);
            }
        }
        return AuditValue.List(Type, items);
    }

    private AuditValue Scalar(object raw) => (Type, raw) switch
    {
        (AuditValueType.Identifier, string s) => AuditValue.Identifier(s),
        (AuditValueType.Organisation, string s) => AuditValue.Organisation(s),
        (AuditValueType.Digest, AuditDigest d) => AuditValue.Digest(d),
        (AuditValueType.Digest, string s) => AuditValue.Digest(AuditDigest.Parse(s)),
        (AuditValueType.Integer, long n) => AuditValue.Integer(n),
        (AuditValueType.Integer, int n) => AuditValue.Integer(n),
        (AuditValueType.Number, double x) => AuditValue.Number(x),
        (AuditValueType.Boolean, bool b) => AuditValue.Boolean(b),
        (AuditValueType.Word, Enum e) => AuditValue.Word(AuditSchema.WordOf(e)),
        (AuditValueType.Word, string s) => AuditValue.Word(s),
        (AuditValueType.Text, string s) => AuditValue.Text(s),
        (AuditValueType.Country, string s) => AuditValue.Country(s),
        (AuditValueType.Time, DateTimeOffset t) => AuditValue.Time(t),
        _ => throw new ArgumentException($"must be {Type}, not {raw.GetType().Name}"),
    };
}

/// <summary>One kind's row of the table: its wire name, the actors that may record it, its fields in table order.</summary>
public sealed class AuditKindSchema
{
    internal AuditKindSchema(AuditEventKind kind, string wireName, ImmutableArray<AuditActorKind> actors, ImmutableArray<AuditFieldSpec> fields)
    {
        Kind = kind;
        WireName = wireName;
        Actors = actors;
        Fields = fields;
        ByName = fields.ToImmutableDictionary(f => f.Name, StringComparer.Ordinal);
    }

    public AuditEventKind Kind { get; }

    public string WireName { get; }

    public ImmutableArray<AuditActorKind> Actors { get; }

    public ImmutableArray<AuditFieldSpec> Fields { get; }

    public ImmutableDictionary<string, AuditFieldSpec> ByName { get; }

    public override string ToString() => WireName;
}

/// <summary>
/// The one table of audit event kinds: for each, its wire name, who may record it and its fields. <see cref="AuditEntry.Create"/>
/// checks entries against it, <see cref="AuditEvents"/> builds entries through it and <see cref="AuditEntryJson"/> reads by it.
/// </summary>
public static class AuditSchema
{
    private static readonly AuditActorKind[] Operator = [AuditActorKind.Federation];
    private static readonly AuditActorKind[] OperatorOrOrg = [AuditActorKind.Federation, AuditActorKind.Organisation];
    private static readonly AuditActorKind[] Org = [AuditActorKind.Organisation];
    private static readonly AuditActorKind[] OrgOrSilo = [AuditActorKind.Silo, AuditActorKind.Organisation];
    private static readonly AuditActorKind[] Service = [AuditActorKind.Federation, AuditActorKind.Silo];
    private static readonly AuditActorKind[] ServiceOrOrg = [AuditActorKind.Federation, AuditActorKind.Silo, AuditActorKind.Organisation];
    private static readonly AuditActorKind[] Anyone = [AuditActorKind.Federation, AuditActorKind.Silo, AuditActorKind.Organisation, AuditActorKind.User];
    private static readonly AuditActorKind[] Drafter = [AuditActorKind.Federation, AuditActorKind.Organisation, AuditActorKind.User];
    private static readonly AuditActorKind[] UserOnly = [AuditActorKind.User];
    private static readonly AuditActorKind[] Gatekeeper = [AuditActorKind.Federation, AuditActorKind.Silo, AuditActorKind.User];

    private static AuditFieldSpec Field(string name, AuditValueType type, bool list = false) =>
        new(name, type, list, true, [], long.MinValue, long.MaxValue, double.NegativeInfinity, double.PositiveInfinity, null);

    private static AuditFieldSpec Id(string name) => Field(name, AuditValueType.Identifier);
    private static AuditFieldSpec Ids(string name) => Field(name, AuditValueType.Identifier, list: true);
    private static AuditFieldSpec OrgId(string name) => Field(name, AuditValueType.Organisation);
    private static AuditFieldSpec OrgIds(string name) => Field(name, AuditValueType.Organisation, list: true);
    private static AuditFieldSpec Digest(string name) => Field(name, AuditValueType.Digest);
    private static AuditFieldSpec Digests(string name) => Field(name, AuditValueType.Digest, list: true);
    private static AuditFieldSpec Int(string name, long min = 0) => Field(name, AuditValueType.Integer) with { MinInteger = min };
    private static AuditFieldSpec Num(string name, double min = 0, double max = double.PositiveInfinity) =>
        Field(name, AuditValueType.Number) with { MinNumber = min, MaxNumber = max };
    private static AuditFieldSpec Bool(string name) => Field(name, AuditValueType.Boolean);
    private static AuditFieldSpec Text(string name) => Field(name, AuditValueType.Text);
    private static AuditFieldSpec Texts(string name) => Field(name, AuditValueType.Text, list: true);
    private static AuditFieldSpec Country(string name) => Field(name, AuditValueType.Country);
    private static AuditFieldSpec Time(string name) => Field(name, AuditValueType.Time);
    private static AuditFieldSpec Word<TEnum>(string name) where TEnum : struct, Enum =>
        Field(name, AuditValueType.Word) with { Words = [.. Enum.GetValues<TEnum>().Select(v => WordOf(v))] };

    private static AuditKindSchema Kind(AuditEventKind kind, string wireName, AuditActorKind[] actors, params AuditFieldSpec[] fields) =>
        new(kind, wireName, [.. actors], [.. fields]);

    // The table. Fields shared by many kinds: job (the job id), round (the model round, ≥ 1: round r makes version r; attempts at it are told apart by attempt), participant (an organisation id).
    private static readonly ImmutableArray<AuditKindSchema> Table =
    [
        Kind(AuditEventKind.OrganisationAdmitted, "organisation.admitted", Operator,
            OrgId("organisation"), Int("serial", 1), Digest("keyFingerprint"), Int("members"), Digest("entryDigest")),
        Kind(AuditEventKind.OrganisationChanged, "organisation.changed", OperatorOrOrg,
            OrgId("organisation"), Int("serial", 1), Digest("keyFingerprint"), Int("members"), Bool("keyChanged"), Bool("membersChanged"), Digest("entryDigest")),
        Kind(AuditEventKind.OrganisationRemoved, "organisation.removed", OperatorOrOrg,
            OrgId("organisation"), Digest("removalDigest"), Text("reason").Optional()),
        Kind(AuditEventKind.MembershipIssued, "membership.issued", Operator,
            Int("serial", 1), Digest("recordDigest"), Int("organisations")),
        Kind(AuditEventKind.DatasetRegistered, "dataset.registered", OrgOrSilo,
            OrgId("organisation"), Id("dataset"), Digest("fileSha256"), Digest("schemaDigest"), Int("rows"), Digest("entryDigest").Optional()),
        Kind(AuditEventKind.AgreementDrafted, "agreement.drafted", Drafter,
            Id("agreement"), Digest("termsDigest"), OrgIds("parties")),
        Kind(AuditEventKind.AgreementProposed, "agreement.proposed", Drafter,
            Id("agreement"), Digest("termsDigest")),
        Kind(AuditEventKind.AgreementSigned, "agreement.signed", ServiceOrOrg,
            Id("agreement"), Digest("termsDigest"), OrgId("party")),
        Kind(AuditEventKind.AgreementActivated, "agreement.activated", Service,
            Id("agreement"), Digest("termsDigest")),
        Kind(AuditEventKind.AgreementSuspended, "agreement.suspended", ServiceOrOrg,
            Id("agreement"), Digest("termsDigest"), OrgId("party"), Int("sequence", 1), Text("reason")),
        Kind(AuditEventKind.AgreementResumed, "agreement.resumed", ServiceOrOrg,
            Id("agreement"), Digest("termsDigest"), OrgId("party"), Int("sequence", 1), Text("reason").Optional()),
        Kind(AuditEventKind.AgreementTerminated, "agreement.terminated", ServiceOrOrg,
            Id("agreement"), Digest("termsDigest"), OrgId("party"), Int("sequence", 1), Text("reason")),
        Kind(AuditEventKind.AgreementExpired, "agreement.expired", Service,
            Id("agreement"), Digest("termsDigest"), Time("validUntil")),
        Kind(AuditEventKind.PolicySetLoaded, "policy.loaded", [AuditActorKind.Silo],
            Digest("setHash"), Int("files")),
        Kind(AuditEventKind.PolicyDecided, "policy.decision", ServiceOrOrg,
            Word<DecisionSubject>("subject"), Id("job"), Int("round", 1).Optional(), Int("attempt", 1).Optional(),
            OrgId("participant").Optional(), Text("step").Optional(), Word<DecisionEffect>("effect"), Digest("setHash"),
            Digest("decisionDigest"), Texts("reasons"), Ids("rules")),
        Kind(AuditEventKind.JobStarted, "job.started", Anyone,
            Id("job"), Id("agreement"), Digest("termsDigest"), OrgIds("participants"), Word<ProtectionScheme>("protection"), Int("rounds", 1).Optional(),
            Num("updateBound").Optional(), Text("encryption").Optional(), Digest("modelSpecDigest").Optional()),
        Kind(AuditEventKind.JobFinished, "job.finished", Anyone,
            Id("job"), Word<JobOutcome>("outcome"), Int("rounds"), Text("reason").Optional()),
        Kind(AuditEventKind.RoundStarted, "round.started", Service,
            Id("job"), Int("round", 1), Int("attempt", 1).Optional(), OrgIds("participants"), Digest("planDigest").Optional()),
        Kind(AuditEventKind.RoundFinished, "round.finished", Service,
            Id("job"), Int("round", 1), Word<RoundOutcome>("outcome"), Int("version", 1).Optional(), Text("reason").Optional(),
            OrgIds("participants").Optional(), Num("accuracy", 0, 1).Optional(), Num("loss").Optional(), Num("seconds").Optional()),
        Kind(AuditEventKind.ParticipantConsented, "participant.consented", OrgOrSilo,
            Id("job"), OrgId("participant"), Id("dataset")),
        Kind(AuditEventKind.ParticipantRefused, "participant.refused", OrgOrSilo,
            Id("job"), OrgId("participant"), Int("round", 1).Optional(), Text("reason")),
        Kind(AuditEventKind.ParticipantJoined, "participant.joined", ServiceOrOrg,
            Id("job"), Int("round", 1), OrgId("participant")),
        Kind(AuditEventKind.ParticipantDropped, "participant.dropped", ServiceOrOrg,
            Id("job"), Int("round", 1), OrgId("participant"), Text("reason")),
        Kind(AuditEventKind.RoundKey, "round.key", Service,
            Id("job"), Int("round", 1), Digest("keyId"), OrgIds("participants"), Digests("keyParts").PairedWith("participants")),
        Kind(AuditEventKind.UpdateSealed, "update.sealed", ServiceOrOrg,
            Id("job"), Int("round", 1), OrgId("participant"), Digest("updateDigest")),
        Kind(AuditEventKind.ModelVersion, "model.version", Service,
            Id("job"), Int("round", 1), Int("version", 1), Digest("modelDigest")),
        Kind(AuditEventKind.PrivacyReserved, "dp.reserved", OrgOrSilo,
            OrgId("organisation"), Id("dataset"), Id("job"), Int("round", 1), Num("epsilonSpent"), Num("epsilonCap").Optional(),
            Num("delta", 0, 1), Num("noiseMultiplier"), Num("samplingRate", 0, 1), Int("steps"), Int("unprotectedRounds", 1).Optional()),
        Kind(AuditEventKind.ModelExported, "model.exported", Anyone,
            Id("job"), Int("version"), Digest("modelDigest"), Country("destination"), OrgId("party").Optional()),
        Kind(AuditEventKind.PredictionsMade, "predictions.made", Anyone,
            Digest("modelDigest"), Int("count"), Id("job").Optional(), Int("version").Optional()),
        Kind(AuditEventKind.ModelExplained, "model.explained", Service,
            Id("job"), Int("version", 1), Digest("modelDigest"), Word<ExplanationMethod>("method"), Int("rows"), Num("baselineAccuracy", 0, 1),
            Texts("features"), Field("importance", AuditValueType.Number, list: true).PairedWith("features"),
            Field("coefficients", AuditValueType.Number, list: true).Optional().PairedWith("features"), Field("intercept", AuditValueType.Number).Optional()),
        Kind(AuditEventKind.SignedIn, "user.signed-in", UserOnly,
            Id("scheme")),
        Kind(AuditEventKind.AccessDenied, "access.denied", Gatekeeper,
            Id("resource"), Id("scheme").Optional(), Text("reason").Optional()),
    ];

    private static readonly ImmutableDictionary<string, AuditKindSchema> ByWireName = Table.ToImmutableDictionary(k => k.WireName, StringComparer.Ordinal);

    /// <summary>Every kind's row, in <see cref="AuditEventKind"/> order.</summary>
    public static ImmutableArray<AuditKindSchema> All => Table;

    /// <exception cref="ArgumentOutOfRangeException">Not a member of <see cref="AuditEventKind"/>.</exception>
    public static AuditKindSchema Of(AuditEventKind kind) =>
        (uint)kind < (uint)Table.Length ? Table[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an audit event kind");

    public static string WireName(AuditEventKind kind) => Of(kind).WireName;

    public static bool TryParseWireName(string? wireName, out AuditEventKind kind)
    {
        bool found = wireName is not null && ByWireName.TryGetValue(wireName, out var schema);
        kind = found ? ByWireName[wireName!].Kind : default;
        return found;
    }

    /// <summary>An enum value's word: its name in kebab case (RoundAttempt → round-attempt), as governance records name them.</summary>
    internal static string WordOf(Enum value)
    {
        string name = value.ToString();
        var word = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterUpper(name[i]))
                word.Append('-');
            word.Append(char.ToLowerInvariant(name[i]));
        }
        return word.ToString();
    }

    static AuditSchema()
    {
        // The table is in enum order and complete, so that Of is an index.
        for (int i = 0; i < Table.Length; i++)
            if ((int)Table[i].Kind != i)
                throw new InvalidOperationException($"Audit schema row {i} is {Table[i].Kind}, not {(AuditEventKind)i}.");
        if (Table.Length != Enum.GetValues<AuditEventKind>().Length)
            throw new InvalidOperationException("The audit schema does not cover every AuditEventKind.");
    }
}
