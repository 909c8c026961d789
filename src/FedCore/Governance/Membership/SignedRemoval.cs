using System.Collections.Immutable;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Canonical;

namespace FedCore.Governance.Membership;

/// <summary>
/// An organisation's statement that it leaves the federation: its id and the serial of its current entry, signed by
/// its current key (tag <c>federation/membership/removal/v1</c> over the canonical <c>{"id","serial"}</c>). Without it
/// the operator cannot drop an organisation; the serial keeps an old removal from being replayed against a later entry.
/// </summary>
public sealed record SignedRemoval(string Id, long Serial, ImmutableArray<byte> Signature)
{
    internal const string Tag = "federation/membership/removal/v1";

    /// <summary>The removal of the organisation whose current entry is <paramref name="current"/>, signed with its key.</summary>
    /// <exception cref="ArgumentException">The key is not the entry's signing key.</exception>
    public static SignedRemoval Create(OrganisationEntry current, ParticipantSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(key);
        if (!current.SigningKey.AsSpan().SequenceEqual(key.PublicKey))
            throw new ArgumentException($"Only the current key of '{current.Id}' can sign its removal.", nameof(key));
        return new SignedRemoval(current.Id, current.Serial, Statement.Sign(key, Tag, StatementBytes(current.Id, current.Serial)));
    }

    internal byte[] StatementBytes() => StatementBytes(Id, Serial);

    private static byte[] StatementBytes(string id, long serial) => CanonicalJson.Write(new JsonObject { ["id"] = id, ["serial"] = serial });

    internal void Check(string source, string path)
    {
        if (!OrganisationId.TryParse(Id, out _, out var error))
            throw new GovernanceFormatException(source, $"{path}.id", error);
        if (Serial < 1)
            throw new GovernanceFormatException(source, $"{path}.serial", $"must be at least 1, not {Serial}");
        if (Signature.IsDefaultOrEmpty)
            throw new GovernanceFormatException(source, $"{path}.signature", "is required");
    }
}
