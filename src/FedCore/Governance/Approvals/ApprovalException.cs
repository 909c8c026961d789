namespace FedCore.Governance.Approvals;

/// <summary>
/// An approval that does not allow the act it was given for: names the organisation, the field at fault (<c>signature</c>,
/// <c>organisation</c>, <c>purpose</c>, <c>subject.terms</c>, <c>issuedAt</c>, <c>expiresAt</c>, <c>nonce</c>, …) and why.
/// </summary>
public sealed class ApprovalException(string organisation, string field, string problem)
    : GovernanceException($"the approval given for '{organisation}' is refused: {field}: {problem}")
{
    public string Organisation { get; } = organisation;

    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
