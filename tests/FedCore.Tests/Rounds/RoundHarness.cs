using System.Security.Cryptography;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using FedCore.Crypto.Multiparty;
using FedCore.Crypto.Ring;
using FedCore.Crypto.Wire;
using FedCore.Rounds;
using Federation.Tests.Shared;

namespace FedCore.Tests.Rounds;

/// <summary>One party of a test job: its signing key and its side of the protocol.</summary>
internal sealed class Party
{
    private readonly TimeProvider _clock;

    public Party(string id, ParticipantSigningKey key, RoundTerms terms, TimeProvider clock, Dictionary<string, string>? opened = null)
    {
        Id = id;
        Key = key;
        _clock = clock;
        Opened = opened ?? [];
        Round = new(terms, null, bytes => key.Sign(bytes), new OpenedSums(Opened), clock);
    }

    public string Id { get; }
    public ParticipantSigningKey Key { get; }
    public ParticipantRound Round { get; private set; }

    /// <summary>Its stored sums opened (what a grain keeps in its state across rounds and jobs).</summary>
    public Dictionary<string, string> Opened { get; }

    /// <summary>A restart: a new object from what is stored only (what a grain reactivated from storage has).</summary>
    public void Restart() => Round = new ParticipantRound(Round.Terms, Round.Record is { } r ? ParticipantRoundRecord.FromBytes(r.ToBytes()) : null,
        bytes => Key.Sign(bytes), new OpenedSums(Opened), _clock, Round.Chain is { } c ? ModelChainRecord.FromBytes(c.ToBytes()) : null, Round.OpeningPart);

    /// <summary>Signs a payload of the party's choosing, as a dishonest party would.</summary>
    public SignedMessage Sign(string purpose, string jobId, int round, byte[] payload, string scheme = CkksProtection.SchemeName) =>
        new(Id, jobId, round, scheme, payload, Key.Sign(SignedStatement.For(purpose, jobId, round, Id, scheme, payload).ToBytes()));
}

/// <summary>
/// A job of several parties whose rounds the tests play step by step through <see cref="ParticipantRound"/> and
/// <see cref="AggregatorRound"/>, honestly or not.
/// </summary>
internal sealed class RoundHarness
{
    public const string JobId = "job-1";

    /// <summary>Round r's plan: a global model of its own per round, as an honest job's (the tests seal updates of their own making).</summary>
    public static RoundPlan PlanFor(int round) => RoundPlan.For(JobId, round, [round], new FedCore.Data.FeatureScaling([], [], []), 1);

    /// <summary>Round 1's plan.</summary>
    public static readonly RoundPlan Plan = PlanFor(1);

    /// <summary>The basis a member trains from in round r (as an honest job's rounds, a new one each round).</summary>
    public static byte[] BasisFor(int round) => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(round));
    public static readonly CkksParameters Parameters = CkksParameters.Default;

    public RoundHarness(int parties, RoundProtection? protection = null, int minimum = 3, TimeProvider? clock = null)
    {
        var ids = Enumerable.Range(0, parties).Select(i => $"XX/party-{i}").ToList();
        var keys = ids.ToDictionary(id => id, _ => ParticipantSigningKey.Generate());
        PublicKeys = keys.ToDictionary(k => k.Key, k => k.Value.PublicKey);
        Protection = protection ?? new RoundProtection(CkksProtection.SchemeName, 4);
        Parties = ids.Select(id => new Party(id, keys[id], new RoundTerms(JobId, id, ids, minimum, PublicKeys, Protection), clock ?? TimeProvider.System)).ToList();
    }

    private RoundHarness(RoundHarness parties, string jobId)
    {
        Job = jobId;
        PublicKeys = parties.PublicKeys;
        Protection = parties.Protection;
        Parties = parties.Parties.Select(p => new Party(p.Id, p.Key, new RoundTerms(jobId, p.Id, p.Round.Terms.Parties, p.Round.Terms.MinimumParticipants, PublicKeys, Protection), TimeProvider.System, p.Opened)).ToList();
    }

    /// <summary>Another job of the same parties, each keeping one store of opened sums for both (as a grain does).</summary>
    public RoundHarness AnotherJob(string jobId) => new(this, jobId);

    /// <summary>The job's id: <see cref="JobId"/> unless made by <see cref="AnotherJob"/>.</summary>
    public string Job { get; } = JobId;

    public List<Party> Parties { get; }

    public Dictionary<string, byte[]> PublicKeys { get; }

    public RoundProtection Protection { get; }

    /// <summary>Every sealed update played through <see cref="SealedRound"/>, by round and party (the aggregator keeps none).</summary>
    public Dictionary<(int Round, string Id), byte[]> SealedUpdates { get; } = [];

    public Party this[int i] => Parties[i];

    /// <summary>The values every member seals, as the job names them to its aggregator; null: the first to arrive sets it.</summary>
    public int? SealedLength { get; init; }

    public AggregatorRound Aggregator(int round, IEnumerable<Party>? members = null) =>
        new(Job, round, (members ?? Parties).Select(p => p.Id), PublicKeys, Protection, SealedLength);

    /// <summary>Steps 1–3 played honestly: every member's key acceptance is in; the seal request is ready.</summary>
    public AggregatorRound KeyedRound(int round, IReadOnlyList<Party>? members = null)
    {
        members ??= Parties;
        var aggregator = RevealedRound(round, members);
        var check = aggregator.KeyCheckRequest(PlanFor(round));
        foreach (var p in members)
            aggregator.AcceptKeyAcceptance(p.Round.CheckKey(check));
        return aggregator;
    }

    /// <summary>Steps 1–2 played honestly: every member's statement is in; the key check request is the test's to make.</summary>
    public AggregatorRound RevealedRound(int round, IReadOnlyList<Party>? members = null)
    {
        members ??= Parties;
        var aggregator = Aggregator(round, members);
        foreach (var p in members)
            aggregator.AcceptCommitment(p.Round.Commit(aggregator.KeyRequest()));
        var reveal = aggregator.RevealRequest();
        foreach (var p in members)
            aggregator.AcceptReveal(p.Round.Reveal(reveal));
        return aggregator;
    }

    /// <summary>Steps 1–4 played honestly with the given updates (weights 1/k): every sealed update is in.</summary>
    public AggregatorRound SealedRound(int round, float[][] updates, IReadOnlyList<Party>? members = null)
    {
        members ??= Parties;
        var aggregator = KeyedRound(round, members);
        var sealRequest = aggregator.SealRequest();
        for (int i = 0; i < members.Count; i++)
        {
            members[i].Round.PrepareSeal(sealRequest, PlanFor(round), BasisFor(round));
            var sealedUpdate = members[i].Round.Seal(round, updates[i], 1.0 / members.Count);
            SealedUpdates[(round, members[i].Id)] = sealedUpdate.SealedUpdate;
            aggregator.AcceptSealed(sealedUpdate);
        }
        return aggregator;
    }

    /// <summary>Steps 5–6 and the opening, played honestly.</summary>
    public AggregatedUpdate Finish(AggregatorRound aggregator, IReadOnlyList<Party>? members = null)
    {
        CheckAndDecrypt(aggregator, members ?? Parties);
        return aggregator.Open();
    }

    /// <summary>
    /// Steps 5–6b played honestly: every member's part is in; <paramref name="revealed"/> sees each as it arrives (a part is
    /// the member's c0 plus its decryption share).
    /// </summary>
    public static void CheckAndDecrypt(AggregatorRound aggregator, IReadOnlyList<Party> members, Action<Party, SignedMessage>? revealed = null)
    {
        var reveal = Committed(aggregator, members);
        foreach (var p in members)
        {
            var part = p.Round.RevealPart(reveal);
            revealed?.Invoke(p, part);
            aggregator.AcceptPart(part);
        }
    }

    /// <summary>Step 5 played honestly: every member's aggregate fingerprint is in; the decrypt request is ready.</summary>
    public static void AggregateChecked(AggregatorRound aggregator, IReadOnlyList<Party> members)
    {
        var check = aggregator.AggregateCheckRequest();
        foreach (var p in members)
            aggregator.AcceptAggregateFingerprint(p.Round.CheckAggregate(check));
    }

    /// <summary>Steps 5–6 played honestly: every member's part commitment is in; the parts' reveal request is returned.</summary>
    public static PartRevealRequest Committed(AggregatorRound aggregator, IReadOnlyList<Party> members)
    {
        AggregateChecked(aggregator, members);
        var decrypt = aggregator.DecryptRequest();
        foreach (var p in members)
            aggregator.AcceptPartCommitment(p.Round.Decrypt(decrypt));
        return aggregator.PartRevealRequest();
    }

    public static float[][] Updates(int count, int length, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();
    }

    // ---- What a dishonest aggregator does with what it holds ---------------------------------------------------

    public static double[] DecryptWithSecret(EncryptedVector vector, long[] secret, ReadOnlySpan<ulong> subtract = default) =>
        CkksAttackTools.DecryptWithSecret(vector, secret, subtract);

    public static byte[] CraftCiphertext(CollectivePublicKey key, int length, double bound, Func<int, int, ulong> c0, Func<int, int, ulong> c1) =>
        CkksAttackTools.CraftCiphertext(Parameters, key, length, bound, c0, c1);

    /// <summary>Σ of the secrets behind a round key, from the members' stored records (only a test can read them): s_i·c1 for c1 = 1 is s_i.</summary>
    public static long[] CollectiveSecret(CollectivePublicKey key, IEnumerable<ParticipantRoundRecord> records) =>
        SecretOf(key, records.Select(r => SecretKeyShare.FromBytes(r.Secret!, Parameters)));

    /// <summary>Σ of <paramref name="shares"/>' secrets, read through a ciphertext under <paramref name="key"/>.</summary>
    public static long[] SecretOf(CollectivePublicKey key, IEnumerable<SecretKeyShare> shares)
    {
        var one = EncryptedVector.Trusted(CraftCiphertext(key, 1, 4, (_, _) => 0, (_, j) => j == 0 ? 1UL : 0UL), Parameters);
        var s = new long[Parameters.RingDimension];
        Modulus q0 = Parameters.Context.WireModulus;
        foreach (var secretShare in shares)
        {
            var share = secretShare.PartialDecryptionWithoutFlooding(one, 0);
            for (int j = 0; j < s.Length; j++)
                s[j] += q0.ToCentered(share[j]);
        }
        return s;
    }

    public static byte[] Sha256(byte[] bytes) => SHA256.HashData(bytes);
}
