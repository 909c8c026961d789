using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;

namespace FedCore.Governance.Agreements;

/// <summary>
/// What the agreement reader checks terms against, beyond their own rules: every party a member, every dataset in
/// the catalog (when one is given), and the window not yet ended at <see cref="Now"/> (when given: pass it when
/// reading terms to propose or sign; leave it out to read an agreement of the past).
/// </summary>
public sealed record AgreementReferences(VerifiedMembership Membership, DatasetCatalog? Catalog = null, DateTimeOffset? Now = null);

/// <summary>
/// Agreement files. Terms alone (<see cref="ParseTerms"/>, what a steward drafts) or the signed document
/// (<see cref="ParseAgreement"/>): <c>{"terms":{…},"proposed":true,"signatures":[…],"statusChanges":[…]}</c>.
/// Reading is closed-world, checks the terms' rules and references, and replays the document's history through the
/// lifecycle, so an impossible one (a signature on a draft, a resumption by another party) is refused with its path.
/// Signatures are verified where the agreement is used (<see cref="Agreement.Verify"/>, <see cref="JobPlanCheck"/>).
/// </summary>
public static class AgreementJson
{
    /// <summary>Larger files are refused unread.</summary>
    public const int MaxBytes = 1 << 20;

    private static readonly string[] TermFields =
        ["id", "title", "purpose", "parties", "updateDestinations", "finalModelDestinations", "modelClasses", "minParticipants",
         "protection", "simulation", "differentialPrivacy", "validFrom", "validUntil", "transferMechanisms", "training"];

    /// <exception cref="GovernanceFormatException">Not JSON; a field unknown, missing, duplicated, of the wrong type or out of range; a party not a member; a dataset not in the catalog; a window already ended.</exception>
    public static AgreementTerms ParseTerms(ReadOnlyMemory<byte> utf8Json, string sourceName, AgreementReferences references)
    {
        ArgumentNullException.ThrowIfNull(references);
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        return ReadTerms(JsonFields.Of(document.RootElement, sourceName, "$", TermFields), references);
    }

    /// <exception cref="GovernanceFormatException">As <see cref="ParseTerms"/>, or the document's history is impossible.</exception>
    public static Agreement ParseAgreement(ReadOnlyMemory<byte> utf8Json, string sourceName, AgreementReferences references)
    {
        ArgumentNullException.ThrowIfNull(references);
        using var document = JsonInput.Parse(utf8Json, sourceName, MaxBytes);
        var root = JsonFields.Of(document.RootElement, sourceName, "$", "terms", "proposed", "signatures", "statusChanges");
        var terms = ReadTerms(root.Object("terms", TermFields), references);
        var signatures = root.Array("signatures", (element, path) =>
        {
            var signature = JsonFields.Of(element, sourceName, path, "party", "signature");
            return new PartySignature(signature.Text("party"), signature.Bytes("signature"));
        });
        var statusChanges = root.Array("statusChanges", (element, path) =>
        {
            var signed = JsonFields.Of(element, sourceName, path, "change", "signature");
            var change = signed.Object("change", "agreement", "terms", "sequence", "kind", "party", "at", "reason");
            return new SignedStatusChange(
                new StatusChange(change.Text("agreement"), change.Digest("terms"), (int)change.Integer("sequence", 1, int.MaxValue),
                    change.Enum<StatusChangeKind>("kind"), change.Text("party"), change.Time("at"), change.Text("reason")),
                signed.Bytes("signature"));
        });
        return Agreement.Replay(terms, root.Boolean("proposed"), signatures, statusChanges,
            (field, e) => new GovernanceFormatException(sourceName, $"$.{field}", e.Problem, e));
    }

    public static byte[] Write(AgreementTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        return CanonicalJson.WriteIndented(ToJson(terms));
    }

    public static byte[] Write(Agreement agreement)
    {
        ArgumentNullException.ThrowIfNull(agreement);
        return CanonicalJson.WriteIndented(new JsonObject
        {
            ["terms"] = ToJson(agreement.Terms),
            ["proposed"] = agreement.Proposed,
            ["signatures"] = Formats.Set(agreement.Signatures, s => s.Party, s => new JsonObject
            {
                ["party"] = s.Party,
                ["signature"] = Formats.Base64(s.Signature),
            }),
            ["statusChanges"] = new JsonArray([.. agreement.StatusChanges.Select(c => new JsonObject
            {
                ["change"] = ToJson(c.Change),
                ["signature"] = Formats.Base64(c.Signature),
            })]),
        });
    }

    internal static JsonObject ToJson(AgreementTerms terms)
    {
        var json = TermsJson(terms);
        // Written only when present, so that terms without it keep the digest they were signed under.
        if (terms.Training is { } training)
            json["training"] = new JsonObject
            {
                ["strategies"] = new JsonArray([.. training.Strategies.Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Name,
                    ["serverLearningRate"] = t.ServerLearningRate,
                    ["beta1"] = t.Beta1,
                    ["beta2"] = t.Beta2,
                    ["tau"] = t.Tau,
                })]),
                ["minLearningRate"] = training.MinLearningRate,
            };
        if (terms.Training?.MaxRowShare is { } share)
            json["training"]!["maxRowShare"] = share;
        return json;
    }

    private static JsonObject TermsJson(AgreementTerms terms) => new()
    {
        ["id"] = terms.Id,
        ["title"] = terms.Title,
        ["purpose"] = terms.Purpose,
        ["parties"] = Formats.Set(terms.Parties, p => p.Organisation, p => new JsonObject
        {
            ["organisation"] = p.Organisation,
            ["datasets"] = Formats.Set(p.Datasets),
            ["sector"] = p.Sector,
            ["certifications"] = Formats.Set(p.Certifications),
            ["attestations"] = Formats.Set(p.Attestations),
        }),
        ["updateDestinations"] = Formats.Set(terms.UpdateDestinations),
        ["finalModelDestinations"] = Formats.Set(terms.FinalModelDestinations),
        ["modelClasses"] = Formats.Set(terms.ModelClasses, Formats.Name, k => Formats.Name(k)),
        ["minParticipants"] = terms.MinParticipants,
        ["protection"] = new JsonObject
        {
            ["scheme"] = Formats.Name(terms.Protection.Scheme),
            ["updateBound"] = terms.Protection.UpdateBound,
        },
        ["simulation"] = terms.Simulation,
        ["differentialPrivacy"] = terms.DifferentialPrivacy is { } dp
            ? new JsonObject
            {
                ["epsilonCap"] = dp.EpsilonCap,
                ["delta"] = dp.Delta,
                ["maxClippingNorm"] = dp.MaxClippingNorm,
                ["minNoiseMultiplier"] = dp.MinNoiseMultiplier,
            }
            : null,
        ["validFrom"] = Formats.Time(terms.ValidFrom),
        ["validUntil"] = Formats.Time(terms.ValidUntil),
        ["transferMechanisms"] = Formats.Set(terms.TransferMechanisms, m => $"{m.From}>{m.To}:{m.Mechanism}", m => new JsonObject
        {
            ["from"] = m.From,
            ["to"] = m.To,
            ["mechanism"] = m.Mechanism,
            ["transferImpactAssessment"] = m.TransferImpactAssessment,
        }),
    };

    internal static JsonObject ToJson(StatusChange change) => new()
    {
        ["agreement"] = change.Agreement,
        ["terms"] = change.Terms,
        ["sequence"] = change.Sequence,
        ["kind"] = Formats.Name(change.Kind),
        ["party"] = change.Party,
        ["at"] = Formats.Time(change.At),
        ["reason"] = change.Reason,
    };

    private static AgreementTerms ReadTerms(JsonFields json, AgreementReferences references)
    {
        var protection = json.Object("protection", "scheme", "updateBound");
        var dp = json.OptionalObject("differentialPrivacy", "epsilonCap", "delta", "maxClippingNorm", "minNoiseMultiplier");
        var training = json.OptionalObject("training", "strategies", "minLearningRate", "maxRowShare");
        var terms = new AgreementTerms(
            json.Text("id"),
            json.Text("title"),
            json.Text("purpose"),
            json.Array("parties", (element, path) =>
            {
                var party = JsonFields.Of(element, json.Source, path, "organisation", "datasets", "sector", "certifications", "attestations");
                return new AgreementParty(party.Text("organisation"), party.TextArray("datasets"), party.Has("sector") ? party.Text("sector") : null,
                    OptionalTexts(party, "certifications"), OptionalTexts(party, "attestations"));
            }),
            json.TextArray("updateDestinations"),
            json.TextArray("finalModelDestinations"),
            json.EnumArray<ModelKind>("modelClasses"),
            (int)json.Integer("minParticipants", int.MinValue, int.MaxValue),
            new ProtectionTerms(protection.Enum<ProtectionScheme>("scheme"), protection.Decimal("updateBound")),
            json.Boolean("simulation"),
            dp is null ? null : new DifferentialPrivacyTerms(dp.Decimal("epsilonCap"), dp.Decimal("delta"), dp.Decimal("maxClippingNorm"), dp.Decimal("minNoiseMultiplier")),
            json.Time("validFrom"),
            json.Time("validUntil"),
            json.Has("transferMechanisms")
                ? json.Array("transferMechanisms", (element, path) =>
                {
                    var m = JsonFields.Of(element, json.Source, path, "from", "to", "mechanism", "transferImpactAssessment");
                    return new TransferMechanismTerms(m.Text("from"), m.Text("to"), m.Text("mechanism"), m.Boolean("transferImpactAssessment"));
                })
                : [],
            training is null ? null : new TrainingTerms(training.Array("strategies", (element, path) =>
            {
                var t = JsonFields.Of(element, json.Source, path, "name", "serverLearningRate", "beta1", "beta2", "tau");
                var defaults = new StrategyTerms("", 0);
                return new StrategyTerms(t.Text("name"), t.Decimal("serverLearningRate"), t.Has("beta1") ? t.Decimal("beta1") : defaults.Beta1,
                    t.Has("beta2") ? t.Decimal("beta2") : defaults.Beta2, t.Has("tau") ? t.Decimal("tau") : defaults.Tau);
            }), training.Decimal("minLearningRate"), training.Has("maxRowShare") ? training.Decimal("maxRowShare") : null));
        terms.Check(json.Source, json.Path);
        CheckReferences(terms, json, references);
        return terms;
    }

    /// <summary>Lists a party states of itself are optional: absent (or null) is none.</summary>
    private static ImmutableArray<string> OptionalTexts(JsonFields json, string name) => json.Has(name) ? json.TextArray(name) : [];

    private static void CheckReferences(AgreementTerms terms, JsonFields json, AgreementReferences references)
    {
        for (int i = 0; i < terms.Parties.Length; i++)
        {
            var party = terms.Parties[i];
            if (!references.Membership.Contains(party.Organisation))
                throw new GovernanceFormatException(json.Source, $"{json.Path}.parties[{i}].organisation",
                    $"'{party.Organisation}' is not a member of the federation (membership record {references.Membership.Serial})");
            for (int j = 0; j < party.Datasets.Length; j++)
                if (references.Catalog is { } catalog && !catalog.Contains(party.Organisation, party.Datasets[j]))
                    throw new GovernanceFormatException(json.Source, $"{json.Path}.parties[{i}].datasets[{j}]",
                        $"'{party.Datasets[j]}' of '{party.Organisation}' is not in the dataset catalog");
        }
        if (references.Now is { } now && now >= terms.ValidUntil)
            throw json.Error("validUntil", $"the window ended at {Formats.Time(terms.ValidUntil)}, before now ({Formats.Time(now)})");
    }
}
