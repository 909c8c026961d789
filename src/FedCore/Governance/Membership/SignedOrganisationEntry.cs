using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// An organisation entry with the signatures that let others accept it: <see cref="SelfSignature"/> by the entry's own
/// key (the organisation vouches for it), and, when the key differs from the organisation's key in the record before,
/// <see cref="PreviousKeySignature"/> by that earlier key (the organisation hands over to its new key; the operator
/// cannot substitute a key on its own). Both sign the same statement: tag <c>federation/membership/entry/v1</c> and the
/// canonical entry.
/// </summary>
public sealed record SignedOrganisationEntry(OrganisationEntry Entry, ImmutableArray<byte> SelfSignature, ImmutableArray<byte>? PreviousKeySignature)
{
    /// <summary>Signs a new organisation's entry (or a change that keeps the key) with the entry's own key.</summary>
    /// <exception cref="GovernanceFormatException">The entry breaks a rule of its format.</exception>
    /// <exception cref="ArgumentException">The key is not the entry's signing key.</exception>
    public static SignedOrganisationEntry Create(OrganisationEntry entry, ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(key);
        entry.Check("organisation entry", "$");
        if (!entry.SigningKey.AsSpan().SequenceEqual(key.PublicKey))
            throw new ArgumentException($"The entry of '{entry.Id}' names another signing key than the one given to sign it.", nameof(key));
        return new SignedOrganisationEntry(entry, Statement.Sign(key, OrganisationEntry.Tag, entry.CanonicalBytes()), null);
    }

    /// <summary>An entry with a new key, signed by the new key and by the key it replaces.</summary>
    /// <exception cref="GovernanceFormatException">The entry breaks a rule of its format.</exception>
    /// <exception cref="ArgumentException">The new key is not the entry's key, or is the previous key.</exception>
    public static SignedOrganisationEntry Rotate(OrganisationEntry entry, ParticipantSigningKey newKey, ParticipantSigningKey previousKey)
    {
        ArgumentNullException.ThrowIfNull(previousKey);
        var signed = Create(entry, newKey);
        if (previousKey.PublicKey.AsSpan().SequenceEqual(newKey.PublicKey))
            throw new ArgumentException($"The new key of '{entry.Id}' is its previous key; a rotation needs a new key.", nameof(newKey));
        return signed with { PreviousKeySignature = Statement.Sign(previousKey, OrganisationEntry.Tag, entry.CanonicalBytes()) };
    }

    internal void Check(string source, string path)
    {
        if (Entry is null)
            throw new GovernanceFormatException(source, $"{path}.entry", "is required");
        Entry.Check(source, $"{path}.entry");
        if (SelfSignature.IsDefaultOrEmpty)
            throw new GovernanceFormatException(source, $"{path}.signatures.self", "is required");
        if (PreviousKeySignature is { IsDefaultOrEmpty: true })
            throw new GovernanceFormatException(source, $"{path}.signatures.previousKey", "must not be empty (leave it out instead)");
    }

    /// <summary>True when both carry the same entry and signatures: an organisation carried over unchanged.</summary>
    internal bool SameAs(SignedOrganisationEntry other) =>
        CanonicalJson.Write(MembershipJson.ToJson(this)).AsSpan().SequenceEqual(CanonicalJson.Write(MembershipJson.ToJson(other)));
}
