using FedCore.Audit;
using FedCore.Audit.Entries;
using FedCore.Governance.Membership;
using Federation.Contracts.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Federation.Silo.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Metadata;

namespace Federation.Silo.Grains;

/// <summary>
/// The audit log's single writer (FedCore/Audit/README.md): checks each entry is a canonical one, stores a batch in one
/// transaction before it answers, and publishes a tree head for what was stored a moment later (one head per burst of
/// appends), signed with the operator's key and co-signed by the witness of every member country that is up. Entries stored
/// before a crash or a shutdown and not yet under a head get one when the log next activates: the same entries, so the same
/// root (a shutdown does not wait on witnesses that may be stopping too).
/// </summary>
[AuditLogPlacementFilter]
public sealed class AuditLogGrain(AuditLogStore store, AuditLogSigner signer, FederationRecords records, TimeProvider clock,
    IClusterManifestProvider manifests, ILogger<AuditLogGrain> logger)
    : Grain, IAuditLogGrain
{
    /// <summary>How long appends may gather before a head covers them.</summary>
    internal static readonly TimeSpan HeadDelay = TimeSpan.FromMilliseconds(200);

    private MerkleTree _tree = MerkleTree.FromLeafHashes([]);
    private SignedTreeHead? _latest;
    private IGrainTimer? _headTimer;
    private Task? _publishing;

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

    /// <summary>How far an entry's time may lie ahead of the log's clock, or before its latest head: the skew witnesses allow heads (the export verifier checks the same).</summary>
    internal static readonly TimeSpan MaxEntrySkew = TreeHeadCosigner.MaxClockSkew;

    public async Task<long> Append(IReadOnlyList<byte[]> entries)
    {
        var latest = clock.GetUtcNow() + MaxEntrySkew;
        var earliest = _latest is { } head ? head.Head.Time - MaxEntrySkew : DateTimeOffset.MinValue;
        var read = new List<AuditEntry>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            AuditEntry entry;
            try
            {
                entry = AuditEntryJson.Read(entries[i], $"entry {i} of the batch");
            }
            catch (AuditFormatException e)
            {
                throw new FederationOperationException("audit.entry", $"The audit log refused the batch, nothing of it was stored: {e.Message}");
            }
            // A period's entries are those dated in it: none may be back-filled under a later head, or dated in the future.
            if (entry.Time > latest || entry.Time < earliest)
                throw new FederationOperationException("audit.entry",
                    $"The audit log refused the batch, nothing of it was stored: entry {i} is dated {TreeHead.FormatTime(entry.Time)}, outside " +
                    $"{(earliest == DateTimeOffset.MinValue ? "" : $"{TreeHead.FormatTime(earliest)} (its latest head's time less {MaxEntrySkew.TotalMinutes:0} minutes) to ")}" +
                    $"{TreeHead.FormatTime(latest)} (its clock plus {MaxEntrySkew.TotalMinutes:0} minutes).");
            read.Add(entry);
        }
        await RequireOrganisationSignaturesAsync(read);
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

    /// <summary>
    /// An entry in an organisation's name must carry that organisation's signature, by the key the membership gives it: any
    /// silo of the cluster can call the log, and only the organisation holds its key.
    /// </summary>
    private async Task RequireOrganisationSignaturesAsync(IReadOnlyList<AuditEntry> entries)
    {
        VerifiedMembership? membership = null;
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Actor.Kind != AuditActorKind.Organisation)
                continue;
            membership ??= await records.MembershipAsync();
            if (membership.Find(entry.Actor.Name)?.SigningKey is not { } key || !entry.VerifySignature(key))
                throw new FederationOperationException("audit.entry",
                    $"The audit log refused the batch, nothing of it was stored: entry {i} is in {entry.Actor}'s name but {(entry.Signature is null ? "unsigned" : "not signed with its membership key")}.");
        }
    }

    public async Task<AuditHead> PublishHead()
    {
        while (Uncovered)
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

    // Interleaving: appends go on while a head gathers its co-signatures (a slow or hostile country must not hold the log).
    private void ScheduleHead() =>
        _headTimer ??= this.RegisterGrainTimer(async () =>
        {
            _headTimer?.Dispose();
            _headTimer = null; // fired: an append from now on schedules the next
            await TryPublishAsync();
        }, new GrainTimerCreationOptions(HeadDelay, Timeout.InfiniteTimeSpan) { Interleave = true });

    private bool Uncovered => _latest is null || _latest.Head.Size < _tree.Size;

    private async Task TryPublishAsync()
    {
        try
        {
            if (Uncovered)
                await PublishAsync();
        }
        catch (Exception e)
        {
            // The entries are stored; the next append, call or activation publishes their head.
            logger.LogWarning(e, "Audit log could not publish a head for {Entries} entries", _tree.Size);
        }
    }

    /// <summary>One publication at a time: a caller that finds one running waits for it (its head may not cover everything yet).</summary>
    private Task PublishAsync() => _publishing is { IsCompleted: false } running ? running : _publishing = PublishOnceAsync();

    private async Task PublishOnceAsync()
    {
        var now = clock.GetUtcNow();
        if (_latest is { } previous && now < previous.Head.Time)
            now = previous.Head.Time; // time in heads never goes back, even if this silo's clock does
        var head = signer.Sign(TreeHead.Of(_tree, now)); // the tree as it is now; appends during the gathering wait for the next head
        head = await GatherCosignaturesAsync(head);
        await store.PutHeadAsync(head.Head.Size, head.Write());
        _latest = head;
        logger.LogInformation("Audit head {Size} {Root} co-signed by [{Countries}]", head.Head.Size, head.Head.RootHex, string.Join(", ", head.Cosignatures.Keys));
        if (Uncovered)
            ScheduleHead(); // appended while this head gathered its co-signatures
    }

    /// <summary>
    /// Asks every member country's witness at once, each within <see cref="WitnessTimeout"/>; one that is down, slow, refuses
    /// or answers with anything but a co-signature its own key verifies is left out, and the head shows it.
    /// </summary>
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
        var countries = membership.Organisations.Select(o => o.Country).Distinct().Order(StringComparer.Ordinal).ToList();
        // A country with no silo up has no witness to ask (placement would refuse it, loudly): it co-signs a later head.
        var up = manifests.Current.Countries().ToHashSet();
        foreach (var country in countries.Where(c => !up.Contains(c)))
            logger.LogInformation("Audit head {Size}: no silo of {Country} is up, so its witness co-signs a later head", head.Head.Size, country);
        countries = [.. countries.Where(up.Contains)];
        var answers = await Task.WhenAll(countries.Select(country => CosignatureOfAsync(country, head.Head, bytes)));
        foreach (var (cosignature, key) in answers.OfType<(TreeHeadCosignature, byte[])>())
        {
            await store.PutWitnessKeyAsync(cosignature.Country, key);
            head = head.WithCosignature(cosignature);
        }
        return head;
    }

    /// <summary>How long a country's witness may take to co-sign a head before it is left out of it.</summary>
    internal static readonly TimeSpan WitnessTimeout = TimeSpan.FromSeconds(10);

    private async Task<(TreeHeadCosignature, byte[])?> CosignatureOfAsync(string country, TreeHead head, byte[] signedHead)
    {
        var witness = GrainFactory.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(country));
        try
        {
            return await AskAsync().WaitAsync(WitnessTimeout);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever a witness does (down, slow, an exception of any kind) costs only its own co-signature.
            logger.LogWarning("Audit witness {Country} did not co-sign head {Size}: {Reason}", country, head.Size, e.Message);
            return null;
        }

        async Task<(TreeHeadCosignature, byte[])?> AskAsync()
        {
            long last = await witness.GetLastSize();
            var proof = last == 0 || last > head.Size ? [] : _tree.ConsistencyProof(last, head.Size);
            var result = await witness.Cosign(signedHead, proof);
            if (result.Signature is not { Length: SignedTreeHead.SignatureLength } signature)
            {
                logger.LogWarning("Audit witness {Country} refused head {Size}: {Reason}", country, head.Size, result.Refusal ?? "a malformed signature");
                return null;
            }
            var cosignature = new TreeHeadCosignature(head, country, [.. signature]);
            var key = await witness.GetPublicKey();
            if (!cosignature.Verify(key))
            {
                logger.LogWarning("Audit witness {Country} answered head {Size} with a co-signature its own key does not verify", country, head.Size);
                return null;
            }
            return (cosignature, key);
        }
    }

    private static AuditHead Describe(SignedTreeHead head) =>
        new(head.Head.Size, head.Head.RootHex, head.Head.Time, [.. head.Cosignatures.Keys], head.Write());
}
