using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Agreements;

/// <summary>What a party may do to an active agreement. JSON: suspend, resume, terminate.</summary>
public enum StatusChangeKind
{
    Suspend,
    Resume,
    Terminate,
}

/// <summary>
/// A party's statement that an agreement is suspended, resumed or terminated. It names the agreement, the digest of
/// its terms and its position among the agreement's status changes (1, 2, …), so it cannot be replayed against other
/// terms, another agreement or a later point of the same one. Made by <see cref="Agreement.NextStatusChange"/>.
/// </summary>
public sealed record StatusChange(string Agreement, string Terms, int Sequence, StatusChangeKind Kind, string Party, DateTimeOffset At, string Reason)
{
    internal const string Tag = "federation/agreement/status/v1";

    internal byte[] CanonicalBytes() => CanonicalJson.Write(AgreementJson.ToJson(this));
}

/// <summary>A status change with its party's signature: tag <c>federation/agreement/status/v1</c> over the canonical change.</summary>
public sealed record SignedStatusChange(StatusChange Change, ImmutableArray<byte> Signature)
{
    public static SignedStatusChange Create(StatusChange change, ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(key);
        return new SignedStatusChange(change, Statement.Sign(key, StatusChange.Tag, change.CanonicalBytes()));
    }

    internal bool Verifies(ImmutableArray<byte> publicKey) => Statement.Verify(publicKey, StatusChange.Tag, Change.CanonicalBytes(), Signature);
}
