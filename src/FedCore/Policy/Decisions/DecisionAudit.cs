using System.Security.Cryptography;
using FedCore.Audit.Entries;

namespace FedCore.Policy.Decisions;

/// <summary>A policy decision as the audit log records it: its effect, the rules that decided it and why, and the digest of the whole record.</summary>
public static class DecisionAudit
{
    /// <param name="decisionJson">The decision's canonical JSON (<see cref="PolicyDecision.ToJson"/>), as the decider keeps it.</param>
    /// <param name="round">The model round decided on; null for the job as a whole.</param>
    public static AuditEntry Entry(PolicyDecision decision, byte[] decisionJson, DecisionSubject subject, DateTimeOffset time, AuditActor actor, string country,
        int? round = null, int? attempt = null, string? participant = null, string? step = null)
    {
        var rules = decision.PlanRules.Concat(decision.Transfers.SelectMany(t => t.Packs.SelectMany(p => p.Rules))).ToList();
        // What decided: every rule that denied, and for an allow the permits that gave a transfer its lawful basis and the
        // requirements that held.
        var deciding = rules.Where(r => r.Denies || r.Outcome is RuleOutcome.Fired or RuleOutcome.Held).Select(r => r.Rule.Id).Distinct().Order(StringComparer.Ordinal);
        var reasons = decision.Allowed
            ? rules.Where(r => r.Outcome == RuleOutcome.Fired && r.Rule.Effect == Packs.RuleEffect.Permit).Select(r => r.Rule.Reason).Distinct()
            : decision.DenyReasons;
        return AuditEvents.PolicyDecided(time, actor, country, subject, decision.JobId, decision.Allowed ? DecisionEffect.Allow : DecisionEffect.Deny,
            AuditDigest.Parse(decision.PolicySetHash), AuditDigest.FromSha256(SHA256.HashData(decisionJson)), [.. reasons.Select(AuditText.Line)], [.. deciding],
            round, attempt, participant, step);
    }
}
