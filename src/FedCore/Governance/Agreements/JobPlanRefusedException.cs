using System.Collections.Immutable;

namespace FedCore.Governance.Agreements;

/// <summary>One way a job plan breaks its agreement: the term (a field of the terms, or <c>plan.…</c>) and what is wrong.</summary>
public sealed record PlanViolation(string Term, string Problem)
{
    public override string ToString() => $"{Term}: {Problem}";
}

/// <summary>A job plan a participant refuses to take part in, with every violation found (not only the first).</summary>
public sealed class JobPlanRefusedException(string jobId, string agreementId, ImmutableArray<PlanViolation> violations)
    : GovernanceException($"job '{jobId}' refused under agreement '{agreementId}': {string.Join("; ", violations)}")
{
    public string JobId { get; } = jobId;

    public string AgreementId { get; } = agreementId;

    public ImmutableArray<PlanViolation> Violations { get; } = violations;
}
