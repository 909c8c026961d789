using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using Federation.Contracts.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class AuditWitnessState
{
    /// <summary>The witness's signing key (PKCS#8), made on first use; it never leaves the country's storage.</summary>
    [Id(0)]
    public byte[]? Key { get; set; }

    /// <summary>The last head co-signed, as its 48-byte encoding (<see cref="TreeHead.Encode"/>).</summary>
    [Id(1)]
    public byte[]? Last { get; set; }
}

/// <summary>
/// A country's witness of the audit log (key <c>&lt;CC&gt;/audit-witness</c>), pinned to its country: the rule is
/// <see cref="TreeHeadCosigner"/>'s; the grain keeps the key and the last head in the country's storage and saves the new
/// last head before the co-signature leaves, so a restart can never co-sign a fork of what it released.
/// </summary>
[CountryResidencyPlacementFilter]
public sealed class AuditWitnessGrain(
    [PersistentState("audit-witness", StorageNames.Country)] IPersistentState<AuditWitnessState> state,
    FederationSiloOptions options,
    TimeProvider clock,
    ILogger<AuditWitnessGrain> logger) : Grain, IAuditWitnessGrain
{
    private string Country => this.GetPrimaryKeyString()[..2];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (this.GetPrimaryKeyString() != AuditWitnessKey.Format(Country))
            throw new FederationOperationException("audit.witness-key", $"'{this.GetPrimaryKeyString()}' is not a witness key; expected '{AuditWitnessKey.Format(Country)}'.");
        if (state.State.Key is null)
        {
            using var key = ParticipantSigningKey.Generate();
            state.State.Key = key.ExportPkcs8();
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public Task<long> GetLastSize() => Task.FromResult(state.State.Last is { } last ? TreeHead.Decode(last).Size : 0);

    public async Task<AuditCosignResult> Cosign(byte[] signedHead, IReadOnlyList<byte[]> consistencyProof)
    {
        var operatorKey = options.OperatorPublicKey
            ?? throw new FederationOperationException("membership.unconfigured", $"The {Country} silo has no operator public key configured: it cannot tell the operator's heads.");
        SignedTreeHead head;
        try
        {
            head = SignedTreeHead.Read(signedHead, "the head to co-sign");
        }
        catch (AuditFormatException e)
        {
            return new AuditCosignResult(Country, null, e.Message);
        }
        using var key = ParticipantSigningKey.Import(state.State.Key!);
        var cosigner = new TreeHeadCosigner(Country, key, operatorKey, state.State.Last is { } last ? TreeHead.Decode(last) : null);
        var outcome = cosigner.Cosign(head, consistencyProof, clock.GetUtcNow());
        if (!outcome.IsCosigned)
        {
            logger.LogWarning("Audit witness {Country} refused head {Head}: {Reason}", Country, head.Head, outcome.Reason);
            return new AuditCosignResult(Country, null, outcome.ToString());
        }
        state.State.Last = cosigner.Last!.Encode();
        await state.WriteStateAsync(); // before the co-signature leaves
        return new AuditCosignResult(Country, [.. outcome.Cosignature!.Signature], null);
    }

    public Task<byte[]> GetPublicKey()
    {
        using var key = ParticipantSigningKey.Import(state.State.Key!);
        return Task.FromResult(key.PublicKey);
    }
}
