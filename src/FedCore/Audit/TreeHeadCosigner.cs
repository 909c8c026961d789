using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Audit;

/// <summary>Why a country's silo refused to co-sign a head.</summary>
public enum CosignRefusal
{
    None,
    /// <summary>The operator's signature over the new head does not verify with the operator key.</summary>
    OperatorSignature,
    /// <summary>The new head is smaller than the last one co-signed: the log would be taking entries back.</summary>
    Rollback,
    /// <summary>Same size as the last head co-signed, another root: two different histories of the same length.</summary>
    Fork,
    /// <summary>The consistency proof is well formed but does not lead from the last head to the new one: the new
    /// head may be a different history (or the proof is wrong); either way it is not shown to extend the last.</summary>
    Inconsistent,
    /// <summary>The consistency proof is malformed for the two sizes (wrong number of hashes, a hash not 32 bytes, a
    /// proof where none can be): typically a proof made for other sizes.</summary>
    BadProof,
    /// <summary>The new head's time is before the last head's.</summary>
    TimeBackwards,
    /// <summary>The new head's time is more than <see cref="TreeHeadCosigner.MaxClockSkew"/> after the silo's clock.</summary>
    TimeInFuture,
}

/// <summary>
/// The outcome of <see cref="TreeHeadCosigner.Cosign"/>: the co-signature, or the refusal and a sentence saying why.
/// </summary>
public sealed record CosignOutcome(TreeHeadCosignature? Cosignature, CosignRefusal Refusal, string Reason)
{
    public bool IsCosigned => Refusal == CosignRefusal.None;

    public override string ToString() => IsCosigned ? $"co-signed by {Cosignature!.Country}" : $"{Refusal}: {Reason}";
}

/// <summary>
/// One country's silo deciding whether to co-sign the log's next head. A pure state machine: its state is the last
/// head it co-signed (<see cref="Last"/>, 48 bytes by <see cref="TreeHead.Encode"/>), which the caller persists.
/// It co-signs a head only when the operator signed it, it is no smaller and no earlier than the last head, and a
/// consistency proof (RFC 9162 §2.1.4.2) shows that the last head's entries are the first entries of the new one
/// (equal sizes: equal roots). So every head a country co-signs extends every head it co-signed before.
/// </summary>
/// <remarks>
/// <para>The first head, when there is no state, is accepted without a proof (trust on first use): a silo that joins,
/// or loses its state, starts from whatever head it is shown first. From a head of size 0 every head is consistent
/// and the proof must be empty.</para>
/// <para>Persist <see cref="Last"/> before the co-signature leaves the silo: a silo that released a co-signature
/// and then restarted from an older state could co-sign a fork of the head it released.</para>
/// <para>It checks the log's consistency, not what the entries say: that is the auditor's export check. Not thread-safe; one caller.</para>
/// </remarks>
public sealed class TreeHeadCosigner
{
    /// <summary>How far a head's time may be ahead of the silo's clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private readonly ParticipantSigningKey _key;
    private readonly byte[] _operatorPublicKey;

    /// <param name="country">The silo's country code (two capital letters).</param>
    /// <param name="key">The silo's signing key; its public part is what verifiers hold for <paramref name="country"/>.</param>
    /// <param name="operatorPublicKey">The federation operator's public key (SubjectPublicKeyInfo DER).</param>
    /// <param name="last">The persisted state: the last head this silo co-signed, or null if it never did.</param>
    public TreeHeadCosigner(string country, ParticipantSigningKey key, byte[] operatorPublicKey, TreeHead? last)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(operatorPublicKey);
        if (!Formats.IsCountryCode(country))
            throw new ArgumentException($"'{country}' is not a country code (two capital letters).", nameof(country));
        Country = country;
        _key = key;
        _operatorPublicKey = (byte[])operatorPublicKey.Clone();
        Last = last;
    }

    public string Country { get; }

    /// <summary>The last head co-signed: the state to persist after every successful <see cref="Cosign"/>.</summary>
    public TreeHead? Last { get; private set; }

    /// <summary>
    /// Co-signs <paramref name="head"/> if it is the operator's and consistent with <see cref="Last"/>, and then makes it
    /// <see cref="Last"/>; otherwise refuses and keeps the state. Co-signatures already on <paramref name="head"/> are ignored.
    /// </summary>
    /// <param name="consistencyProof">PROOF(Last.Size, head) from the log (empty for equal sizes; ignored for the first head).</param>
    /// <param name="now">The silo's clock, to refuse heads dated in its future.</param>
    public CosignOutcome Cosign(SignedTreeHead head, IReadOnlyList<byte[]>? consistencyProof, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(head);
        var next = head.Head;
        if (!head.VerifyOperator(_operatorPublicKey))
            return Refuse(CosignRefusal.OperatorSignature,
                $"the operator's signature over the head ({next}) does not verify with the operator key: it is not the federation's head, or it was altered");
        if (next.Time > now + MaxClockSkew)
            return Refuse(CosignRefusal.TimeInFuture,
                $"the head is dated {TreeHead.FormatTime(next.Time)}, more than {MaxClockSkew.TotalMinutes:0} minutes after this silo's clock ({now.UtcDateTime:O})");

        if (Last is not { } last)
            return Accept(next); // trust on first use: nothing to be consistent with

        if (next.Size < last.Size)
            return Refuse(CosignRefusal.Rollback,
                $"the head has {next.Size} entries, fewer than the {last.Size} {Country} co-signed before: the log would take entries back");
        if (next.Time < last.Time)
            return Refuse(CosignRefusal.TimeBackwards,
                $"the head is dated {TreeHead.FormatTime(next.Time)}, before the head {Country} co-signed last ({TreeHead.FormatTime(last.Time)}): time goes backwards");

        if (last.Size == 0)
        {
            // The empty tree is a prefix of every tree; RFC 9162 has no proof from size 0.
            if (consistencyProof is not { Count: 0 })
                return Refuse(CosignRefusal.BadProof, "the last head co-signed is the empty log, so the consistency proof must be empty");
            return Accept(next);
        }

        if (next.Size == last.Size && !next.RootSpan.SequenceEqual(last.RootSpan)) // whatever proof comes with it
            return Refuse(CosignRefusal.Fork,
                $"the head has {next.Size} entries, as the one {Country} co-signed last, but root {next.RootHex}, not {last.RootHex}: a different history of the same log");
        var verdict = MerkleProofs.VerifyConsistency(last.Size, next.Size, consistencyProof, last.RootSpan, next.RootSpan);
        if (verdict.IsValid)
            return Accept(next);
        if (verdict.Fault == MerkleProofFault.RootMismatch)
            return Refuse(CosignRefusal.Inconsistent,
                $"the consistency proof does not show that the head of {next.Size} entries extends the head of {last.Size} {Country} co-signed last; co-signing it could let the log show {Country} a different history ({verdict.Reason})");
        return Refuse(CosignRefusal.BadProof,
            $"the consistency proof from {last.Size} to {next.Size} entries is malformed, perhaps made for other sizes: {verdict.Reason}");
    }

    private CosignOutcome Accept(TreeHead next)
    {
        var cosignature = new TreeHeadCosignature(next, Country, TreeHeadCosignature.Sign(next, Country, _key));
        Last = next;
        return new CosignOutcome(cosignature, CosignRefusal.None, "co-signed");
    }

    private static CosignOutcome Refuse(CosignRefusal refusal, string reason) => new(null, refusal, reason);
}
