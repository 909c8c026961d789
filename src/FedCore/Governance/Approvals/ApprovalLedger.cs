namespace FedCore.Governance.Approvals;

/// <summary>
/// The approvals a participant has used, by nonce, with their expiry: an approval serves one act. The participant keeps
/// the dictionary in its own storage and writes it before the act's result leaves.
/// </summary>
public static class ApprovalLedger
{
    /// <summary>
    /// Used nonces are kept until <see cref="Approval.MaxLifetime"/> after their approval expired, so that a clock set back
    /// by less than that cannot make a used approval new again; after that <see cref="Approval.Verify"/> refuses it anyway.
    /// </summary>
    public static readonly TimeSpan Retention = Approval.MaxLifetime;

    /// <summary>
    /// Records <paramref name="approval"/> as used, refusing it if its nonce is in <paramref name="used"/> already, and
    /// drops the entries past <see cref="Retention"/>. On a refusal nothing is added.
    /// </summary>
    /// <exception cref="ApprovalException">The approval was used before (field <c>nonce</c>).</exception>
    public static void Use(IDictionary<string, DateTimeOffset> used, VerifiedApproval approval, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(used);
        ArgumentNullException.ThrowIfNull(approval);
        foreach (var stale in used.Where(u => u.Value + Retention <= now).Select(u => u.Key).ToList())
            used.Remove(stale);
        if (used.ContainsKey(approval.Nonce))
            throw new ApprovalException(approval.Organisation, "nonce", "this approval was used already: an approval allows one act; make a new one");
        used[approval.Nonce] = approval.ExpiresAt;
    }
}
