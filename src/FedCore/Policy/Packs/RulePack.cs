using System.Collections.Immutable;
using FedCore.Policy.Language;

namespace FedCore.Policy.Packs;

/// <summary>
/// One policy file's rules for one legal regime (or the federation's own). <see cref="Governs"/> says which transfers
/// its transfer-level rules rule on; null when the pack has plan-level rules only.
/// </summary>
public sealed record RulePack(
    string Id,
    string Title,
    string Jurisdiction,
    Condition? Governs,
    ImmutableSortedDictionary<string, ImmutableArray<object>> Lists,
    ImmutableArray<PolicyRule> Rules,
    string File)
{
    /// <summary>
    /// Whose law the pack is, as a condition on <c>participant</c>: a participant deciding for itself applies every pack
    /// that applies to it (and every pack that governs one of its transfers). Null: only the latter.
    /// </summary>
    public Condition? AppliesTo { get; init; }

    public IEnumerable<PolicyRule> PlanRules => Rules.Where(r => r.Over == RuleLevel.Plan);

    public IEnumerable<PolicyRule> TransferRules => Rules.Where(r => r.Over == RuleLevel.Transfer);

    /// <summary>The pack's lists as the <c>lists</c> object its conditions read.</summary>
    public FactObject ListFacts => new("lists", Lists.ToImmutableDictionary(l => l.Key, l => (object)l.Value));
}

/// <summary>
/// The policy set's assumptions, from settings.yaml: whether model updates and the final model are personal data. They
/// become <c>transfer.personalData</c>, so a pack that governs only personal data sees the assumption, not a constant.
/// </summary>
public sealed record PolicySettings(bool UpdatesArePersonalData, bool FinalModelIsPersonalData);

/// <summary>
/// A loaded policy set: every pack, the settings, and <see cref="Hash"/>, the SHA-256 identity of the files it was
/// loaded from (see <see cref="PolicySetHash"/>), which every decision carries.
/// </summary>
public sealed record PolicySet(string Hash, PolicySettings Settings, ImmutableArray<RulePack> Packs)
{
    public int RuleCount => Packs.Sum(p => p.Rules.Length);
}
