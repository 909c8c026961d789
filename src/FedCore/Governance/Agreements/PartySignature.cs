using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Agreements;

/// <summary>A party's signature over agreement terms: tag <c>federation/agreement/terms/v1</c> and the canonical terms.</summary>
public sealed record PartySignature(string Party, ImmutableArray<byte> Signature)
{
    /// <summary>Signs terms as <paramref name="party"/> with the party's key.</summary>
    public static PartySignature Create(AgreementTerms terms, string party, ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(party);
        ArgumentNullException.ThrowIfNull(key);
        return new PartySignature(party, Statement.Sign(key, AgreementTerms.Tag, terms.CanonicalBytes()));
    }

    internal bool Verifies(AgreementTerms terms, ImmutableArray<byte> publicKey) =>
        Statement.Verify(publicKey, AgreementTerms.Tag, terms.CanonicalBytes(), Signature);
}
