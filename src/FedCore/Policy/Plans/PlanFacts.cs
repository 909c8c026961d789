using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Policy.Language;
using FedCore.Policy.Packs;

namespace FedCore.Policy.Plans;

/// <summary>
/// A plan's facts as the objects of <see cref="FactSchema"/>. Derived facts (counts, unions, a dataset's remaining ε,
/// a transfer's mechanisms) are computed here once, so rules need no arithmetic. A null in the plan leaves the fact out.
/// </summary>
public static class PlanFacts
{
    /// <summary>The names plan-level conditions start from (<c>lists</c> is the pack's, added by the engine).</summary>
    public static ImmutableDictionary<string, object> ForPlan(PolicyPlan plan) => ImmutableDictionary.CreateRange(new Dictionary<string, object>
    {
        ["plan"] = Plan(plan),
        ["agreement"] = Agreement(plan.Agreement),
        ["dp"] = Dp(plan.Dp),
    });

    public static FactObject Transfer(PolicyTransfer transfer, PolicyPlan plan, PolicySettings settings)
    {
        var mechanisms = plan.Agreement.TransferMechanisms.Where(m => m.From == transfer.From && m.To == transfer.To).ToList();
        var recipient = transfer.Recipient;
        return Object("transfer", new()
        {
            ["from"] = transfer.From,
            ["to"] = transfer.To,
            ["kind"] = transfer.KindName,
            ["organisation"] = transfer.Sender.Organisation,
            ["sector"] = transfer.Sender.Sector,
            ["certifications"] = Set(transfer.Sender.Certifications),
            ["attestations"] = Set(transfer.Sender.Attestations),
            ["categories"] = Set(transfer.Sender.Datasets.SelectMany(d => d.Categories)),
            ["rows"] = transfer.Sender.Datasets.Sum(d => (decimal)d.Rows),
            ["personalData"] = transfer.Kind == TransferKind.Update ? settings.UpdatesArePersonalData : settings.FinalModelIsPersonalData,
            ["mechanisms"] = Set(mechanisms.Select(m => m.Mechanism)),
            ["assessedMechanisms"] = Set(mechanisms.Where(m => m.TransferImpactAssessment).Select(m => m.Mechanism)),
            ["recipient"] = Object("transfer.recipient", new()
            {
                ["organisation"] = recipient.Organisation,
                ["country"] = recipient.Country,
                ["sector"] = recipient.Sector,
                ["certifications"] = Set(recipient.Certifications),
            }),
        });
    }

    private static FactObject Plan(PolicyPlan plan)
    {
        var datasets = plan.Participants.SelectMany(p => p.Datasets.Select(d => (Participant: p, Dataset: d))).ToList();
        return Object("plan", new()
        {
            ["at"] = DateOnly.FromDateTime(plan.At.UtcDateTime),
            ["jobId"] = plan.JobId,
            ["purpose"] = plan.Purpose,
            ["round"] = (decimal?)plan.Round,
            ["recurring"] = plan.Recurring,
            ["modelClass"] = plan.ModelClass,
            ["strategy"] = plan.Strategy,
            ["minParticipants"] = (decimal)plan.MinParticipants,
            ["participantCount"] = (decimal)plan.Participants.Length,
            ["protection"] = Formats.Name(plan.Protection),
            ["countries"] = Set(plan.Participants.Select(p => p.Country)),
            ["categories"] = Set(datasets.SelectMany(d => d.Dataset.Categories)),
            ["updateDestinations"] = Set(plan.UpdateDestinations.Select(d => d.Country)),
            ["finalModelDestinations"] = Set(plan.FinalModelDestinations.Select(d => d.Country)),
            ["updatesCrossBorder"] = PolicyTransfer.Derive(plan).Any(t => t.Kind == TransferKind.Update),
            ["participants"] = FactObject.List("plan.participants", plan.Participants, Participant),
            ["datasets"] = FactObject.List("plan.datasets", datasets, (d, path) => Dataset(d.Participant, d.Dataset, path)),
        });
    }

    /// <summary>The plan's facts and <c>participant</c>: the one deciding for itself (a pack's <c>appliesTo</c>).</summary>
    public static ImmutableDictionary<string, object> ForParticipant(PolicyPlan plan, PlanParticipant participant) =>
        ForPlan(plan).Add("participant", Participant(participant, "participant"));

    private static FactObject Participant(PlanParticipant participant, string path) => Object(path, new()
    {
        ["organisation"] = participant.Organisation,
        ["country"] = participant.Country,
        ["sector"] = participant.Sector,
        ["certifications"] = Set(participant.Certifications),
        ["attestations"] = Set(participant.Attestations),
        ["categories"] = Set(participant.Datasets.SelectMany(d => d.Categories)),
        ["rows"] = participant.Datasets.Sum(d => (decimal)d.Rows),
    });

    private static FactObject Dataset(PlanParticipant participant, PlanDataset dataset, string path) => Object(path, new()
    {
        ["id"] = dataset.Id,
        ["organisation"] = participant.Organisation,
        ["country"] = participant.Country,
        ["categories"] = Set(dataset.Categories),
        ["rows"] = (decimal)dataset.Rows,
        ["privacyUnit"] = dataset.PrivacyUnit,
        ["epsilonCap"] = dataset.EpsilonCap,
        ["epsilonSpent"] = dataset.EpsilonSpent,
        ["epsilonRemaining"] = dataset.EpsilonCap - dataset.EpsilonSpent,
    });

    private static FactObject Agreement(PlanAgreement agreement) => Object("agreement", new()
    {
        ["id"] = agreement.Id,
        ["minParticipants"] = (decimal)agreement.MinParticipants,
        ["epsilonCap"] = agreement.EpsilonCap,
        ["delta"] = agreement.Delta,
        ["differentialPrivacy"] = agreement.EpsilonCap is not null,
        ["simulation"] = agreement.Simulation,
        ["updateDestinations"] = Set(agreement.UpdateDestinations),
        ["finalModelDestinations"] = Set(agreement.FinalModelDestinations),
        ["transferMechanisms"] = FactObject.List("agreement.transferMechanisms", agreement.TransferMechanisms, (m, path) => Object(path, new()
        {
            ["from"] = m.From,
            ["to"] = m.To,
            ["mechanism"] = m.Mechanism,
            ["transferImpactAssessment"] = m.TransferImpactAssessment,
        })),
    });

    private static FactObject Dp(PlanDifferentialPrivacy? dp) => Object("dp", new()
    {
        ["enabled"] = dp?.Enabled ?? false,
        ["epsilon"] = dp?.Epsilon,
        ["delta"] = dp?.Delta,
        ["noiseMultiplier"] = dp?.NoiseMultiplier,
        ["clippingNorm"] = dp?.ClippingNorm,
    });

    /// <summary>A set of strings in ordinal order, duplicates removed, so decisions list them the same way every time.</summary>
    private static ImmutableArray<object> Set(IEnumerable<string> items) => [.. items.Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The object with its null facts left out: a fact the plan did not give is absent, never a default.</summary>
    private static FactObject Object(string path, Dictionary<string, object?> facts) =>
        new(path, facts.Where(f => f.Value is not null).ToImmutableDictionary(f => f.Key, f => f.Value!));
}
