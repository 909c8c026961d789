using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Governance.Membership;
using Federation.Contracts.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Governance;
using Federation.Silo.Placement;
using Federation.Silo.Storage;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

/// <summary>
/// The audit log's single writer (FedCore/Audit/README.md): checks each entry is a canonical one, stores a batch in one
/// transaction before it answers, and publishes a tree head for what was stored a moment later (one head per burst of
/// appends), signed with the operator's key and co-signed by the witness of every member country that is up. Entries stored
/// before a crash and not yet under a head get one when the log next activates: the same entries, so the same root.
/// </summary>
[AuditLogPlacementFilter]
public sealed class AuditLogGrain(AuditLogStore store, AuditLogSigner signer, FederationRecords records, TimeProvider clock, ILogger<AuditLogGrain> logger)
    : Grain, IAuditLogGrain
{
    /// <summary>How long appends may gather before a head covers them.</summary>
    internal static readonly TimeSpan HeadDelay = TimeSpan.FromMilliseconds(200);

    private MerkleTree _tree = MerkleTree.FromLeafHashes([]);
    private SignedTreeHead? _latest;
    private IGrainTimer? _headTimer;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tree = MerkleTree.FromEntries(await store.ReadEntriesAsync(cancellationToken: cancellationToken));
        var heads = await store.ReadHeadsAsync(cancellationToken);
        _latest = heads.Count == 0 ? null : SignedTreeHead.Read(heads[^1], $"the stored head of {heads.Count} heads");
        if (_latest is { } latest && (latest.Head.Size > _tree.Size || !latest.Head.Root.AsSpan().SequenceEqual(_tree.RootAt(latest.Head.Size))))
            throw new FederationOperationException("audit.store-inconsistent",
                $"The audit log's stored entries do not match its latest head ({latest.Head}): the store holds {_tree.Size} entries; the log will not append to a history it cannot vouch for.");
        logger.LogInformation("Audit log activated with {Entries} entries, latest head {Size}", _tree.Size, _latest?.Head.Size);
        if (_tree.Size > (_latest?.Head.Size ?? -1))
            ScheduleHead(); // entries stored before a crash, or the first (empty) head
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_headTimer is not null)
            await TryPublishAsync();
    }

    public async Task<long> Append(IReadOnlyList<byte[]> entries)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            try
            {
                _ = AuditEntryJson.Read(entries[i], $"entry {i} of the batch");
            }
            catch (AuditFormatException e)
            {
                throw new FederationOperationException("audit.entry", $"The audit log refused the batch, nothing of it was stored: {e.Message}");
            }
        }
        long first = _tree.Size;
        if (entries.Count == 0)
            return first;
        try
        {
            await store.AppendAsync(first, entries);
        }
        catch
        {
            // Whether the store kept the batch is unknown: read it again on the next call rather than guess.
            DeactivateOnIdle();
            throw;
        }
        foreach (var entry in entries)
            _tree.AppendEntry(entry);
        ScheduleHead();
        return first;
    }

    public async Task<AuditHead> PublishHead()
    {
        if (_latest is null || _latest.Head.Size < _tree.Size)
            await PublishAsync();
        return Describe(_latest!);
    }

    public Task<AuditHead?> GetLatestHead() => Task.FromResult(_latest is null ? null : Describe(_latest));

    public async Task<IReadOnlyList<byte[]>> GetEntries(long from, int count) =>
        from < 0 || count < 0
            ? throw new FederationOperationException("audit.range", $"Entries from {from}, {count} of them: both must be ≥ 0.")
            : await store.ReadEntriesAsync(from, count);

    public Task<IReadOnlyList<byte[]>> GetInclusionProof(long index, long treeSize)
    {
        if (treeSize < 1 || treeSize > _tree.Size || index < 0 || index >= treeSize)
            throw new FederationOperationException("audit.range",
                $"No inclusion proof for entry {index} in a tree of {treeSize} entries: the log has {_tree.Size}, and the entry must be below the size.");
        return Task.FromResult<IReadOnlyList<byte[]>>(_tree.InclusionProof(index, treeSize));
    }

    private void ScheduleHead() =>
        _headTimer ??= this.RegisterGrainTimer(async () =>
        {
            await TryPublishAsync();
        }, new GrainTimerCreationOptions(HeadDelay, Timeout.InfiniteTimeSpan));

    private async Task TryPublishAsync()
    {
        try
        {
            await PublishAsync();
        }
        catch (Exception e)
        {
            // The entries are stored; the next append, call or activation publishes their head.
            logger.LogWarning(e, "Audit log could not publish a head for {Entries} entries", _tree.Size);
        }
    }

    private async Task PublishAsync()
    {
        _headTimer?.Dispose();
        _headTimer = null;
        var now = clock.GetUtcNow();
        if (_latest is { } previous && now < previous.Head.Time)
            now = previous.Head.Time; // time in heads never goes back, even if this silo's clock does
        var head = signer.Sign(TreeHead.Of(_tree, now));
        head = await GatherCosignaturesAsync(head);
        await store.PutHeadAsync(head.Head.Size, head.Write());
        _latest = head;
        logger.LogInformation("Audit head {Size} {Root} co-signed by [{Countries}]", head.Head.Size, head.Head.RootHex, string.Join(", ", head.Cosignatures.Keys));
    }

    /// <summary>Asks each member country's witness to co-sign; one that is down or refuses is left out, and the head shows it.</summary>
    private async Task<SignedTreeHead> GatherCosignaturesAsync(SignedTreeHead head)
    {
        VerifiedMembership membership;
        try
        {
            membership = await records.MembershipAsync();
        }
        catch (FederationOperationException e) when (e.Code == "membership.none")
        {
            return head; // no member country yet
        }
        var bytes = head.Write();
        foreach (var country in membership.Organisations.Select(o => o.Country).Distinct().Order(StringComparer.Ordinal))
        {
            var witness = GrainFactory.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(country));
            try
            {
                long last = await witness.GetLastSize();
                var proof = last == 0 || last > head.Head.Size ? [] : _tree.ConsistencyProof(last, head.Head.Size);
                var result = await witness.Cosign(bytes, proof);
                if (result.Signature is null)
                {
                    logger.LogWarning("Audit witness {Country} refused head {Size}: {Reason}", country, head.Head.Size, result.Refusal);
                    continue;
                }
                var cosignature = new TreeHeadCosignature(head.Head, country, [.. result.Signature]);
                var witnessKey = await witness.GetPublicKey();
                if (!cosignature.Verify(witnessKey))
                {
                    logger.LogWarning("Audit witness {Country} answered head {Size} with a co-signature its own key does not verify", country, head.Head.Size);
                    continue;
                }
                await store.PutWitnessKeyAsync(country, witnessKey);
                head = head.WithCosignature(cosignature);
            }
            catch (Exception e) when (e is ResidencyViolationException or FederationOperationException or TimeoutException or OrleansException)
            {
                logger.LogWarning("Audit witness {Country} did not co-sign head {Size}: {Reason}", country, head.Head.Size, e.Message);
            }
        }
        return head;
    }

    private static AuditHead Describe(SignedTreeHead head) =>
        new(head.Head.Size, head.Head.RootHex, head.Head.Time, [.. head.Cosignatures.Keys], head.Write());
}
