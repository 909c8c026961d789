using System.Collections.Immutable;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>The roles of <c>DESIGN.md</c> ("Who uses it"). JSON: organisation-admin, data-steward, data-scientist, auditor.</summary>
public enum MemberRole
{
    OrganisationAdmin,
    DataSteward,
    DataScientist,
    Auditor,
}

/// <summary>A person of an organisation in one role; a person with two roles is listed twice.</summary>
public sealed record Member(string Name, MemberRole Role)
{
    /// <summary>What makes a member unique in an entry, and orders the members when written.</summary>
    internal string Key => $"{Name}\n{Formats.Name(Role)}";
}

/// <summary>
/// One organisation of the federation: one legal entity in one country, and exactly one participant, so its id is
/// the participant key. The entry is signed by its own <see cref="SigningKey"/> (see <see cref="SignedOrganisationEntry"/>);
/// <see cref="Serial"/> numbers the organisation's successive entries (1, then higher with every change), so that
/// an older entry can never be put back in place of a newer one.
/// </summary>
/// <param name="SigningKey">ECDSA P-256 public key, SubjectPublicKeyInfo DER (base64 in JSON).</param>
public sealed record OrganisationEntry(
    string Id,
    string Country,
    string LegalName,
    ImmutableArray<Member> Members,
    ImmutableArray<byte> SigningKey,
    long Serial)
{
    internal const string Tag = "federation/membership/entry/v1";

    internal byte[] CanonicalBytes() => CanonicalJson.Write(MembershipJson.ToJson(this));

    /// <summary>The rules an entry keeps on its own; <paramref name="path"/> is where it sits in its document.</summary>
    internal void Check(string source, string path)
    {
        void Fail(string field, string problem) => throw new GovernanceFormatException(source, $"{path}.{field}", problem);

        if (!OrganisationId.TryParse(Id, out var country, out var error))
            Fail("id", error);
        if (Country != country)
            Fail("country", $"'{Country}' is not the country of the id '{Id}' ({country})");
        if (!Formats.IsText(LegalName))
            Fail("legalName", "must not be empty or blank");
        if (Members.IsDefaultOrEmpty)
            Fail("members", "must list at least one member");
        for (int i = 0; i < Members.Length; i++)
        {
            if (Members[i] is null || !Formats.IsText(Members[i].Name))
                Fail($"members[{i}].name", "must not be empty or blank");
            if (!Enum.IsDefined(Members[i].Role))
                Fail($"members[{i}].role", $"must be one of {Formats.Names<MemberRole>()}");
        }
        int duplicate = Formats.FirstDuplicate(Members, m => m.Key);
        if (duplicate >= 0)
            Fail($"members[{duplicate}]", $"'{Members[duplicate].Name}' is listed twice as {Formats.Name(Members[duplicate].Role)}");
        // Someone must be able to speak for the organisation: keys, agreements and members are its admin's business.
        if (!Members.Any(m => m.Role == MemberRole.OrganisationAdmin))
            Fail("members", $"must include an {Formats.Name(MemberRole.OrganisationAdmin)}");
        if (!Formats.IsP256PublicKey(SigningKey))
            Fail("signingKey", "is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER, uncompressed point, 91 bytes)");
        if (Serial < 1)
            Fail("serial", $"must be at least 1, not {Serial}");
    }
}
