using System.Collections.Immutable;
using FedCore.Policy.Language;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;

namespace FedCore.Policy.Decisions;

/// <summary>
/// Evaluates a plan against a policy set (policies/README.md, "Evaluation"): plan-level rules once; then every transfer
/// the plan implies against every pack that governs it. A deny fires, a require fails, a rule is undetermined, or a
/// governed transfer has no permit that fired: each is a deny reason. No reason, allow.
/// </summary>
public static class PolicyEngine
{
    public static PolicyDecision Evaluate(PolicySet set, PolicyPlan plan) => Evaluate(set, plan, exporter: null);

    /// <summary>
    /// The decision one participant takes for itself before it trains: the law of its own country, as the packs that apply
    /// to it (<see cref="RulePack.AppliesTo"/>) or govern one of its own transfers state it. Only its transfers are ruled
    /// on, and only those packs' plan-level rules apply; other packs (the federation's own among them: the job decides
    /// those) are not its to apply.
    /// </summary>
    public static PolicyDecision EvaluateFor(PolicySet set, PolicyPlan plan, string exporter)
    {
        ArgumentException.ThrowIfNullOrEmpty(exporter);
        if (plan.Participants.All(p => p.Organisation != exporter))
            throw new ArgumentException($"'{exporter}' is not a participant of the plan.", nameof(exporter));
        return Evaluate(set, plan, exporter);
    }

    private static PolicyDecision Evaluate(PolicySet set, PolicyPlan plan, string? exporter)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(plan);
        var day = DateOnly.FromDateTime(plan.At.UtcDateTime);
        var planFacts = PlanFacts.ForPlan(plan);
        var transferReasons = ImmutableArray.CreateBuilder<string>();

        var transfers = ImmutableArray.CreateBuilder<TransferDecision>();
        foreach (var transfer in PolicyTransfer.Derive(plan).Where(t => exporter is null || t.Sender.Organisation == exporter))
        {
            var transferFacts = planFacts.Add("transfer", PlanFacts.Transfer(transfer, plan, set.Settings));
            var rulings = ImmutableArray.CreateBuilder<PackRuling>();
            foreach (var pack in set.Packs.Where(p => p.Governs is not null))
            {
                var ruling = Rule(pack, transferFacts.Add("lists", pack.ListFacts), day);
                rulings.Add(ruling);
                transferReasons.AddRange(Reasons(ruling, transfer));
            }
            transfers.Add(new TransferDecision(transfer, rulings.ToImmutable()));
        }
        // For one exporter, its country's law: the packs that apply to it, and those that govern (or may govern) one of its
        // transfers. A pack that cannot tell whether it applies (a fact missing) applies.
        var self = exporter is null ? null : PlanFacts.ForParticipant(plan, plan.Participants.First(p => p.Organisation == exporter));
        var packs = exporter is null
            ? set.Packs
            : [.. set.Packs.Where(p => p.AppliesTo is { } applies && applies.Evaluate(self!.Add("lists", p.ListFacts)).Result is not false
                || transfers.Any(t => t.Packs.Any(r => r.Pack == p.Id && r.Governance != GovernsOutcome.NotGoverned)))];

        var reasons = ImmutableArray.CreateBuilder<string>();
        var planRules = ImmutableArray.CreateBuilder<RuleEvaluation>();
        foreach (var pack in packs)
        {
            var roots = planFacts.Add("lists", pack.ListFacts);
            foreach (var rule in pack.PlanRules)
            {
                var evaluation = Evaluate(rule, pack.Id, roots, day);
                planRules.Add(evaluation);
                if (evaluation.Denies)
                    reasons.Add(Reason(evaluation));
            }
        }
        reasons.AddRange(transferReasons); // plan-level reasons first, as before

        return new PolicyDecision(set.Hash, plan.At, plan.JobId, plan.Round, set.Settings, [.. packs.Select(p => p.Id)],
            planRules.ToImmutable(), transfers.ToImmutable(), reasons.ToImmutable()) { Exporter = exporter };
    }

    private static PackRuling Rule(RulePack pack, ImmutableDictionary<string, object> roots, DateOnly day)
    {
        var (governs, read) = pack.Governs!.Evaluate(roots);
        var facts = read.ToImmutableSortedDictionary(StringComparer.Ordinal);
        if (governs is not true)
            return new PackRuling(pack.Id, governs is false ? GovernsOutcome.NotGoverned : GovernsOutcome.Undetermined, facts, (governs as Missing)?.Fact, []);
        return new PackRuling(pack.Id, GovernsOutcome.Governed, facts, null, [.. pack.TransferRules.Select(rule => Evaluate(rule, pack.Id, roots, day))]);
    }

    private static RuleEvaluation Evaluate(PolicyRule rule, string pack, ImmutableDictionary<string, object> roots, DateOnly day)
    {
        if (!rule.InForce(day))
            return new RuleEvaluation(rule, pack, RuleOutcome.NotInForce, ImmutableSortedDictionary<string, object>.Empty, null);
        var (result, read) = rule.When.Evaluate(roots);
        var outcome = result switch
        {
            Missing => RuleOutcome.Undetermined,
            true => rule.Effect == RuleEffect.Require ? RuleOutcome.Held : RuleOutcome.Fired,
            _ => rule.Effect == RuleEffect.Require ? RuleOutcome.Failed : RuleOutcome.DidNotFire,
        };
        return new RuleEvaluation(rule, pack, outcome, read.ToImmutableSortedDictionary(StringComparer.Ordinal), (result as Missing)?.Fact);
    }

    private static IEnumerable<string> Reasons(PackRuling ruling, PolicyTransfer transfer)
    {
        string prefix = $"transfer {transfer.Label}: ";
        if (ruling.Governance == GovernsOutcome.Undetermined)
            yield return $"{prefix}cannot tell whether pack {ruling.Pack} governs it: fact {ruling.MissingFact} was not given";
        foreach (var rule in ruling.Rules.Where(r => r.Denies))
            yield return prefix + Reason(rule);
        if (ruling.Governance == GovernsOutcome.Governed && !ruling.HasLawfulBasis)
            yield return $"no lawful basis for transfer {transfer.From}→{transfer.To} ({transfer.KindName}) under {ruling.Pack}: no permit rule fired for {transfer.Label}";
    }

    private static string Reason(RuleEvaluation evaluation) => evaluation.Outcome == RuleOutcome.Undetermined
        ? $"{evaluation.Rule.Id} ({evaluation.Pack}, {evaluation.Rule.Source.Document} {evaluation.Rule.Source.Article}) is undetermined: fact {evaluation.MissingFact} was not given"
        : $"{evaluation.Rule.Id} ({evaluation.Pack}, {evaluation.Rule.Source.Document} {evaluation.Rule.Source.Article}): {evaluation.Rule.Reason}";
}
