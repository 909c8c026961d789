using System.Collections.Immutable;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;

namespace FedCore.Policy.Decisions;

/// <summary>How one rule came out for one plan (or one transfer of it).</summary>
public enum RuleOutcome
{
    /// <summary>A permit or deny whose condition held: its effect applies.</summary>
    Fired,
    /// <summary>A permit or deny whose condition did not hold.</summary>
    DidNotFire,
    /// <summary>A require whose condition held.</summary>
    Held,
    /// <summary>A require whose condition did not hold: deny.</summary>
    Failed,
    /// <summary>Before its effective day or on or after its expiry day: not evaluated.</summary>
    NotInForce,
    /// <summary>A fact it needs was not given: deny (closed world).</summary>
    Undetermined,
}

/// <summary>Whether a pack's <c>governs</c> condition took a transfer in.</summary>
public enum GovernsOutcome
{
    Governed,
    NotGoverned,
    /// <summary>A fact <c>governs</c> needs was not given: deny, since the pack might have applied.</summary>
    Undetermined,
}

/// <summary>One rule's evaluation: its outcome, the facts it read with their values (<see cref="Language.Missing"/> when not given).</summary>
public sealed record RuleEvaluation(
    PolicyRule Rule,
    string Pack,
    RuleOutcome Outcome,
    ImmutableSortedDictionary<string, object> Facts,
    string? MissingFact)
{
    public bool Denies => Outcome is RuleOutcome.Failed or RuleOutcome.Undetermined || (Outcome == RuleOutcome.Fired && Rule.Effect == RuleEffect.Deny);
}

/// <summary>One pack on one transfer: whether it governs it, and if so its transfer rules and whether it allows it.</summary>
public sealed record PackRuling(
    string Pack,
    GovernsOutcome Governance,
    ImmutableSortedDictionary<string, object> Facts,
    string? MissingFact,
    ImmutableArray<RuleEvaluation> Rules)
{
    public bool HasLawfulBasis => Rules.Any(r => r.Rule.Effect == RuleEffect.Permit && r.Outcome == RuleOutcome.Fired);

    public bool Allows => Governance switch
    {
        GovernsOutcome.NotGoverned => true,
        GovernsOutcome.Undetermined => false,
        _ => HasLawfulBasis && !Rules.Any(r => r.Denies),
    };
}

public sealed record TransferDecision(PolicyTransfer Transfer, ImmutableArray<PackRuling> Packs)
{
    public bool Allowed => Packs.All(p => p.Allows);
}

/// <summary>
/// The engine's answer for one plan: allow only if every plan-level rule and every governed transfer allows. It names
/// the policy set by hash and the evaluation time, lists every rule evaluated with the facts it read, and the reasons
/// for a deny. <see cref="DecisionJson"/> writes it as canonical JSON to be stored with the round.
/// </summary>
public sealed record PolicyDecision(
    string PolicySetHash,
    DateTimeOffset At,
    string JobId,
    int? Round,
    PolicySettings Settings,
    ImmutableArray<string> Packs,
    ImmutableArray<RuleEvaluation> PlanRules,
    ImmutableArray<TransferDecision> Transfers,
    ImmutableArray<string> DenyReasons)
{
    public bool Allowed => DenyReasons.IsEmpty;

    /// <summary>The participant a decision was taken for, under its own country's packs (<see cref="PolicyEngine.EvaluateFor"/>); null for the whole plan.</summary>
    public string? Exporter { get; init; }

    public byte[] ToJson() => DecisionJson.Write(this);
}
