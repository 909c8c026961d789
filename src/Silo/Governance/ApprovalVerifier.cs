using FedCore.Governance;
using FedCore.Governance.Approvals;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;

namespace Federation.Silo.Governance;

/// <summary>
/// How a participant on this silo checks its organisation's approval of an act: against the approver public key this
/// silo is configured with (<see cref="FederationSiloOptions.ApproverPublicKeys"/>, or the key folder
/// <see cref="FederationSiloOptions.ApproverKeyDirectory"/>), never against a key the cluster hands it.
/// </summary>
public sealed class ApprovalVerifier(FederationSiloOptions options)
{
    /// <exception cref="FederationOperationException">No approver key is configured for the organisation (code <c>approval.unconfigured</c>).</exception>
    public byte[] ApproverKeyOf(string organisation)
    {
        if (options.ApproverPublicKeys.TryGetValue(organisation, out var configured))
            return configured;
        var file = options.ApproverKeyDirectory is { } directory ? Approvers.PublicKeyPath(directory, organisation) : null;
        if (file is not null && File.Exists(file))
            return File.ReadAllBytes(file);
        throw new FederationOperationException("approval.unconfigured",
            $"The {options.Country} silo has no approver public key for {organisation} (FederationSiloOptions.ApproverPublicKeys" +
            $"{(file is null ? "" : $", or {file}")}; `federation serve --approver-key {organisation}=FILE`): its participant signs nothing for it until one is configured.");
    }

    /// <summary>The organisation's approval of exactly <paramref name="act"/>, valid now; whether it was used before is the participant's ledger's question.</summary>
    /// <exception cref="FederationOperationException">No approval, no approver key, or the approval does not allow the act (code <c>approval.refused</c>, naming why).</exception>
    public VerifiedApproval Verify(string organisation, byte[]? approval, ApprovalSubject act, DateTimeOffset now)
    {
        if (approval is not { Length: > 0 })
            throw new FederationOperationException("approval.refused", $"Participant {organisation} refuses to {GovernanceNames.Of(act.Purpose)}: no approval of its organisation was given.");
        var key = ApproverKeyOf(organisation);
        try
        {
            return Approval.Verify(approval, key, organisation, act, now);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("approval.refused", $"Participant {organisation} refuses to {GovernanceNames.Of(act.Purpose)}: {e.Message}");
        }
    }
}
