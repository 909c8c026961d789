using System.Collections.Immutable;
using System.Text.Json;
using FedCore.Governance;
using FedCore.Governance.Canonical;

namespace FedCore.Policy.Plans;

/// <summary>
/// Reads a <see cref="PolicyPlan"/> from JSON (policies/README.md, "The plan"), closed-world like the governance
/// documents: an unknown or repeated field, a value of the wrong type, a country that is not ISO 3166-1 alpha-2, is
/// refused with <see cref="GovernanceFormatException"/> naming the file and the JSON path. Absent and null are the same;
/// an optional fact left out stays unknown to the rules.
/// </summary>
public static class PolicyPlanJson
{
    public const int MaxBytes = 4 << 20;

    /// <exception cref="GovernanceFormatException">The plan is not valid JSON or breaks the format.</exception>
    public static PolicyPlan Parse(ReadOnlyMemory<byte> utf8Json, string sourceName)
    {
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var root = JsonFields.Of(document.RootElement, sourceName, "$",
            "at", "jobId", "purpose", "round", "recurring", "modelClass", "strategy", "minParticipants", "participants",
            "agreement", "protection", "dp", "updateDestinations", "finalModelDestinations");
        var participants = root.Array("participants", (e, path) => Participant(e, sourceName, path));
        int duplicate = Formats.FirstDuplicate(participants, p => p.Organisation);
        if (duplicate >= 0)
            throw new GovernanceFormatException(sourceName, $"$.participants[{duplicate}].organisation", $"{participants[duplicate].Organisation} is listed twice");
        var protection = root.Object("protection", "scheme");
        return new PolicyPlan(
            root.Time("at"),
            root.Text("jobId"),
            root.Text("purpose"),
            root.Has("round") ? (int)root.Integer("round", 0, int.MaxValue) : null,
            root.Boolean("recurring"),
            root.Text("modelClass"),
            root.Text("strategy"),
            (int)root.Integer("minParticipants", 0, 1_000_000),
            participants,
            Agreement(root.Object("agreement", "id", "minParticipants", "epsilonCap", "delta", "updateDestinations", "finalModelDestinations", "transferMechanisms", "simulation")),
            protection.Enum<PlanProtection>("scheme"),
            root.OptionalObject("dp", "enabled", "epsilon", "delta", "noiseMultiplier", "clippingNorm") is { } dp ? Dp(dp) : null,
            root.Array("updateDestinations", (e, path) => Recipient(e, sourceName, path)),
            root.Array("finalModelDestinations", (e, path) => Recipient(e, sourceName, path)));
    }

    private static PlanParticipant Participant(JsonElement element, string source, string path)
    {
        var fields = JsonFields.Of(element, source, path, "organisation", "country", "sector", "certifications", "attestations", "datasets");
        var datasets = fields.Array("datasets", (e, p) => Dataset(e, source, p));
        int duplicate = Formats.FirstDuplicate(datasets, d => d.Id);
        if (duplicate >= 0)
            throw new GovernanceFormatException(source, $"{fields.At("datasets")}[{duplicate}].id", $"dataset {datasets[duplicate].Id} is listed twice");
        return new PlanParticipant(fields.Text("organisation"), Country(fields, "country"), OptionalText(fields, "sector"),
            OptionalTexts(fields, "certifications"), OptionalTexts(fields, "attestations"), datasets);
    }

    private static PlanDataset Dataset(JsonElement element, string source, string path)
    {
        var fields = JsonFields.Of(element, source, path, "id", "categories", "rows", "privacyUnit", "epsilonCap", "epsilonSpent");
        return new PlanDataset(fields.Text("id"), fields.TextArray("categories"), fields.Integer("rows", 0, PolicyPlan.MaxRows),
            OptionalText(fields, "privacyUnit"), OptionalNonNegative(fields, "epsilonCap"), OptionalNonNegative(fields, "epsilonSpent"));
    }

    private static PlanAgreement Agreement(JsonFields fields) => new(
        fields.Text("id"),
        (int)fields.Integer("minParticipants", 0, 1_000_000),
        OptionalNonNegative(fields, "epsilonCap"),
        OptionalNonNegative(fields, "delta"),
        Countries(fields, "updateDestinations"),
        Countries(fields, "finalModelDestinations"),
        fields.Has("transferMechanisms")
            ? fields.Array("transferMechanisms", (e, path) =>
            {
                var m = JsonFields.Of(e, fields.Source, path, "from", "to", "mechanism", "transferImpactAssessment");
                return new PlanTransferMechanism(Country(m, "from"), Country(m, "to"), m.Text("mechanism"), m.Boolean("transferImpactAssessment"));
            })
            : [],
        fields.Has("simulation") && fields.Boolean("simulation"));

    private static PlanDifferentialPrivacy Dp(JsonFields fields) => new(
        fields.Boolean("enabled"),
        OptionalNonNegative(fields, "epsilon"),
        OptionalNonNegative(fields, "delta"),
        OptionalNonNegative(fields, "noiseMultiplier"),
        OptionalNonNegative(fields, "clippingNorm"));

    /// <summary>A destination: a country code alone, or who receives there.</summary>
    private static PlanRecipient Recipient(JsonElement element, string source, string path)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            string country = JsonFields.ReadText(element, source, path);
            return Formats.IsCountryCode(country) ? PlanRecipient.InCountry(country) : throw NotCountry(source, path, country);
        }
        var fields = JsonFields.Of(element, source, path, "country", "organisation", "sector", "certifications");
        return new PlanRecipient(Country(fields, "country"), OptionalText(fields, "organisation"), OptionalText(fields, "sector"), OptionalTexts(fields, "certifications"));
    }

    private static string Country(JsonFields fields, string name)
    {
        string text = fields.Text(name);
        return Formats.IsCountryCode(text) ? text : throw NotCountry(fields.Source, fields.At(name), text);
    }

    private static ImmutableArray<string> Countries(JsonFields fields, string name) =>
        fields.Array(name, (e, path) => JsonFields.ReadText(e, fields.Source, path) is var c && Formats.IsCountryCode(c) ? c : throw NotCountry(fields.Source, path, c));

    private static GovernanceFormatException NotCountry(string source, string path, string text) =>
        new(source, path, $"\"{(text.Length <= 20 ? text : text[..20] + "…")}\" is not an ISO 3166-1 alpha-2 country code in capitals (e.g. HU)");

    private static string? OptionalText(JsonFields fields, string name) => fields.Has(name) ? fields.Text(name) : null;

    private static ImmutableArray<string> OptionalTexts(JsonFields fields, string name) => fields.Has(name) ? fields.TextArray(name) : [];

    private static decimal? OptionalNonNegative(JsonFields fields, string name)
    {
        if (!fields.Has(name))
            return null;
        decimal value = fields.Decimal(name);
        return value >= 0 ? value : throw fields.Error(name, $"must not be negative, not {value}");
    }
}
