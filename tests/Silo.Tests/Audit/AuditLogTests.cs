using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Entries;
using Federation.Contracts.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Audit;

/// <summary>
/// The audit log through real grains: the single writer on the operator's silo, the witnesses of US, HU and CH each on
/// its own silo, their storage and restarts. The test plays the operator (it holds the operator's key) where it attacks.
/// </summary>
public sealed class AuditLogTests : IAsyncLifetime
{
    private static readonly string[] Countries = ["CH", "HU", "US"];
    private readonly TempDirectory _dir = new("federation-audit");
    private LocalFederation _federation = null!;

    public async Task InitializeAsync()
    {
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(_federation);
    }

    public async Task DisposeAsync()
    {
        await _federation.DisposeAsync();
        _dir.Dispose();
    }

    private IAuditLogGrain Log => _federation.Grains.GetGrain<IAuditLogGrain>(0);

    // Entries are dated when the test runs: the log refuses entries far from its clock.
    private readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private byte[] Entry(int n) => AuditEntryJson.Write(AuditEvents.PredictionsMade(
        Now.AddMilliseconds(n), AuditActor.Silo("HU"), "HU", AuditDigest.Hash([(byte)n]), n + 1));

    private async Task<Dictionary<string, byte[]>> WitnessKeysAsync() =>
        (await Task.WhenAll(Countries.Select(async c => (c, await _federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(c)).GetPublicKey()))))
        .ToDictionary(x => x.c, x => x.Item2);

    private async Task<List<byte[]>> AllEntriesAsync() => [.. await Log.GetEntries(0, int.MaxValue)];

    [Fact]
    public async Task Appended_entries_are_kept_in_order_under_a_head_every_member_country_cosigned()
    {
        long before = (await Log.PublishHead()).Size;
        var batches = new[] { new[] { Entry(1), Entry(2) }, new[] { Entry(3) }, new[] { Entry(4), Entry(5), Entry(6) } };
        foreach (var batch in batches)
            Assert.Equal(before + batches.TakeWhile(b => b != batch).Sum(b => b.Length), await Log.Append(batch));
        var head = await Log.PublishHead();

        var entries = await AllEntriesAsync();
        Assert.Equal(entries.Count, head.Size);
        Assert.Equal(batches.SelectMany(b => b).Select(Convert.ToHexString), entries.Skip((int)before).Select(Convert.ToHexString));
        var signed = SignedTreeHead.Read(head.SignedJson);
        Assert.Equal(Convert.ToHexStringLower(MerkleTree.FromEntries(entries).Root), signed.Head.RootHex);
        Assert.Equal(Countries, head.CosignedBy);
        var verdict = signed.Verify(_federation.Operator!.PublicKey, await WitnessKeysAsync());
        Assert.True(verdict.IsValid, verdict.ToString());

        // Every entry is tied to the head by its inclusion proof.
        for (long i = 0; i < head.Size; i++)
        {
            var proof = await Log.GetInclusionProof(i, head.Size);
            Assert.True(MerkleProofs.VerifyInclusion(MerkleTree.HashLeaf(entries[(int)i]), i, head.Size, [.. proof], signed.Head.Root.AsSpan()).IsValid);
        }
    }

    [Fact]
    public async Task A_batch_with_one_malformed_entry_is_refused_whole_and_nothing_of_it_is_stored()
    {
        var head = await Log.PublishHead();
        var bad = Entry(2);
        bad[^2] ^= 0x01; // '}' of "v":1} becomes a different byte: not the entry's canonical form
        var e = await Assert.ThrowsAsync<FederationOperationException>(() => Log.Append([Entry(1), bad, Entry(3)]));
        Assert.Equal("audit.entry", e.Code);
        Assert.Contains("entry 1 of the batch", e.Message);
        Assert.Equal(head.Size, (await AllEntriesAsync()).Count);
        Assert.Equal(head.Size, await Log.Append([Entry(4)])); // the log goes on where it was
    }

    [Fact]
    public async Task A_restarted_federation_resumes_the_log_with_the_same_entries_and_root()
    {
        await Log.Append([Entry(1), Entry(2), Entry(3)]);
        var head = await Log.PublishHead();
        await _federation.DisposeAsync();
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH"));

        var again = await Log.PublishHead();
        Assert.Equal(head.Size, again.Size);
        Assert.Equal(head.RootHex, again.RootHex);
        Assert.Equal(head.Size, await Log.Append([Entry(4)]));
        var next = await Log.PublishHead();
        Assert.Equal(Countries, next.CosignedBy); // the witnesses, restarted too, accept it as an extension of what they co-signed
    }

    [Fact]
    public async Task A_witness_refuses_a_head_that_rewrites_rolls_back_or_forks_what_it_cosigned_and_still_cosigns_the_honest_log()
    {
        await Log.Append([Entry(1), Entry(2), Entry(3)]);
        var honest = await Log.PublishHead();
        var entries = await AllEntriesAsync();
        using var operatorKey = ParticipantSigningKey.Import(File.ReadAllBytes(_federation.Operator!.KeyPath));
        var witness = _federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format("HU"));
        Assert.Equal(honest.Size, await witness.GetLastSize());

        // The operator rewrites entry 1 and shows HU the forged history, at the same size and grown by one entry.
        var forged = entries.ToList();
        forged[1] = Entry(99);
        var forgedTree = MerkleTree.FromEntries(forged);
        var sameSize = SignedTreeHead.Sign(TreeHead.Of(forgedTree, DateTimeOffset.UtcNow), operatorKey);
        Assert.Contains("Fork", (await witness.Cosign(sameSize.Write(), [])).Refusal);
        forgedTree.AppendEntry(Entry(100));
        var grown = SignedTreeHead.Sign(TreeHead.Of(forgedTree, DateTimeOffset.UtcNow), operatorKey);
        Assert.Contains("Inconsistent", (await witness.Cosign(grown.Write(), forgedTree.ConsistencyProof(honest.Size))).Refusal);
        // … or takes entries back.
        var shorter = SignedTreeHead.Sign(TreeHead.Of(MerkleTree.FromEntries(entries.Take(entries.Count - 1)), DateTimeOffset.UtcNow), operatorKey);
        Assert.Contains("Rollback", (await witness.Cosign(shorter.Write(), [])).Refusal);
        // A head not signed by the operator is refused whatever it says.
        using var stranger = ParticipantSigningKey.Generate();
        var honestTree = MerkleTree.FromEntries(entries);
        honestTree.AppendEntry(Entry(7));
        var unsigned = SignedTreeHead.Sign(TreeHead.Of(honestTree, DateTimeOffset.UtcNow), stranger);
        Assert.Contains("OperatorSignature", (await witness.Cosign(unsigned.Write(), honestTree.ConsistencyProof(honest.Size))).Refusal);

        // None of it moved the witness: the honest log goes on, co-signed by all.
        Assert.Equal(honest.Size, await witness.GetLastSize());
        await Log.Append([Entry(7)]);
        Assert.Equal(Countries, (await Log.PublishHead()).CosignedBy);
    }

    [Fact]
    public async Task A_witness_that_restarts_still_refuses_a_fork_of_what_it_cosigned_before()
    {
        await Log.Append([Entry(1), Entry(2)]);
        var honest = await Log.PublishHead();
        var entries = await AllEntriesAsync();
        await _federation.StopCountryAsync("HU");
        await _federation.DisposeAsync();
        _federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "US", "HU", "CH"));

        using var operatorKey = ParticipantSigningKey.Import(File.ReadAllBytes(_federation.Operator!.KeyPath));
        var forged = entries.ToList();
        forged[0] = Entry(42);
        var fork = SignedTreeHead.Sign(TreeHead.Of(MerkleTree.FromEntries(forged), DateTimeOffset.UtcNow), operatorKey);
        var result = await _federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format("HU")).Cosign(fork.Write(), []);
        Assert.Null(result.Signature);
        Assert.Contains("Fork", result.Refusal);
        Assert.Equal(honest.Size, await _federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format("HU")).GetLastSize());
    }

    [Fact]
    public async Task A_head_published_while_a_country_is_down_lacks_only_its_cosignature()
    {
        await _federation.StopCountryAsync("CH");
        await Log.Append([Entry(1)]);
        var head = await Log.PublishHead();
        Assert.Equal(["HU", "US"], head.CosignedBy);
        var keys = await Task.WhenAll(new[] { "HU", "US" }.Select(async c => (c, await _federation.Grains.GetGrain<IAuditWitnessGrain>(AuditWitnessKey.Format(c)).GetPublicKey())));
        var verdict = SignedTreeHead.Read(head.SignedJson).Verify(_federation.Operator!.PublicKey, keys.ToDictionary(k => k.c, k => k.Item2));
        Assert.True(verdict.IsValid, verdict.ToString());
    }
}

/// <summary>The log runs only where the operator's key is.</summary>
public sealed class AuditLogPlacementTests
{
    [Fact]
    public async Task No_silo_without_the_operator_key_hosts_the_log_and_appends_fail_saying_so()
    {
        using var dir = new TempDirectory("federation-audit-nokey");
        using var someOperator = ParticipantSigningKey.Generate();
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "HU") with { OperatorPublicKey = someOperator.PublicKey });
        var e = await Assert.ThrowsAsync<FederationOperationException>(() => federation.Grains.GetGrain<IAuditLogGrain>(0).Append([]));
        Assert.Equal("audit.no-log-silo", e.Code);
    }
}
