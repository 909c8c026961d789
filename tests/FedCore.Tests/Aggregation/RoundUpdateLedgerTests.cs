using FedCore.Aggregation.Integrity;
using FedCore.Rounds;

namespace FedCore.Tests.Aggregation;

public sealed class RoundUpdateLedgerTests : IDisposable
{
    private readonly ParticipantSigningKey _budapest = ParticipantSigningKey.Generate();
    private readonly ParticipantSigningKey _zurich = ParticipantSigningKey.Generate();
    private readonly RoundUpdateLedger _ledger;

    public RoundUpdateLedgerTests()
    {
        _ledger = new RoundUpdateLedger(RoundPurpose.Update, "job-1", 3, "ckks", new VerifyingKeys(new Dictionary<string, byte[]>
        {
            ["HU/budapest"] = _budapest.PublicKey,
            ["CH/zurich"] = _zurich.PublicKey,
        }));
    }

    private static byte[] Sign(ParticipantSigningKey key, string participant, byte[] payload, string job = "job-1", int round = 3,
        string purpose = RoundPurpose.Update, string scheme = "ckks") =>
        key.Sign(SignedStatement.For(purpose, job, round, participant, scheme, payload).ToBytes());

    [Fact]
    public void A_registered_key_naming_an_unknown_curve_verifies_nothing_and_throws_nothing()
    {
        var key = _budapest.PublicKey;
        key[15] ^= 0x01; // the first byte of the curve's object identifier: the platform throws PlatformNotSupportedException
        byte[] payload = [1, 2, 3];
        Assert.False(ParticipantSigningKey.Verify(key, SignedStatement.For(RoundPurpose.Update, "job-1", 3, "HU/budapest", "ckks", payload).ToBytes(),
            Sign(_budapest, "HU/budapest", payload)));
    }

    [Fact]
    public void Signed_updates_from_each_participant_are_accepted_once()
    {
        byte[] a = [1, 2, 3], b = [4, 5, 6];
        _ledger.Accept("HU/budapest", "job-1", 3, "ckks", a, Sign(_budapest, "HU/budapest", a));
        Assert.False(_ledger.IsComplete);
        _ledger.Accept("CH/zurich", "job-1", 3, "ckks", b, Sign(_zurich, "CH/zurich", b));
        Assert.True(_ledger.IsComplete);
        Assert.Equal(a, _ledger.Accepted["HU/budapest"]);
    }

    [Fact]
    public void A_replay_from_an_earlier_round_or_another_job_is_refused()
    {
        byte[] a = [1, 2, 3];
        var old = Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("HU/budapest", "job-1", 2, "ckks", a, Sign(_budapest, "HU/budapest", a, round: 2)));
        Assert.Contains("replay", old.Message);
        Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("HU/budapest", "job-0", 3, "ckks", a, Sign(_budapest, "HU/budapest", a, job: "job-0")));
        Assert.Empty(_ledger.Accepted);
    }

    [Fact]
    public void A_second_update_from_the_same_participant_is_a_duplicate()
    {
        byte[] a = [1, 2, 3], again = [7, 7, 7];
        _ledger.Accept("HU/budapest", "job-1", 3, "ckks", a, Sign(_budapest, "HU/budapest", a));
        var duplicate = Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("HU/budapest", "job-1", 3, "ckks", again, Sign(_budapest, "HU/budapest", again)));
        Assert.Contains("duplicate", duplicate.Message);
        Assert.Equal(a, _ledger.Accepted["HU/budapest"]);
    }

    [Fact]
    public void Forged_misattributed_and_repurposed_signatures_are_refused()
    {
        byte[] a = [1, 2, 3];
        // Zurich signs, claims to be Budapest.
        Assert.Contains("does not verify", Assert.Throws<RejectedUpdateException>(() =>
            _ledger.Accept("HU/budapest", "job-1", 3, "ckks", a, Sign(_zurich, "HU/budapest", a))).Message);
        // A payload changed after signing.
        Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("HU/budapest", "job-1", 3, "ckks", [1, 2, 4], Sign(_budapest, "HU/budapest", a)));
        // A key-share signature presented as an update signature.
        Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("HU/budapest", "job-1", 3, "ckks", a,
            Sign(_budapest, "HU/budapest", a, purpose: RoundPurpose.KeyStatement)));
        // An outsider.
        using var outsider = ParticipantSigningKey.Generate();
        Assert.Contains("not a participant", Assert.Throws<RejectedUpdateException>(() =>
            _ledger.Accept("US/nowhere", "job-1", 3, "ckks", a, Sign(outsider, "US/nowhere", a))).Message);
        Assert.Empty(_ledger.Accepted);
    }

    [Fact]
    public void A_copy_of_another_participants_update_is_refused()
    {
        byte[] a = [1, 2, 3];
        _ledger.Accept("HU/budapest", "job-1", 3, "ckks", a, Sign(_budapest, "HU/budapest", a));
        var copy = Assert.Throws<RejectedUpdateException>(() => _ledger.Accept("CH/zurich", "job-1", 3, "ckks", a, Sign(_zurich, "CH/zurich", a)));
        Assert.Contains("copy", copy.Message);
    }

    [Fact]
    public void A_downgrade_to_another_scheme_is_refused()
    {
        byte[] a = [1, 2, 3];
        Assert.Contains("scheme", Assert.Throws<RejectedUpdateException>(() =>
            _ledger.Accept("HU/budapest", "job-1", 3, "plaintext-simulation", a, Sign(_budapest, "HU/budapest", a, scheme: "plaintext-simulation"))).Message);
    }

    [Fact]
    public void Signing_keys_round_trip_through_pkcs8_and_reject_foreign_bytes()
    {
        using var restored = ParticipantSigningKey.Import(_budapest.ExportPkcs8());
        Assert.Equal(_budapest.PublicKey, restored.PublicKey);
        byte[] message = [9, 8, 7];
        Assert.True(ParticipantSigningKey.Verify(_budapest.PublicKey, message, restored.Sign(message)));
        Assert.False(ParticipantSigningKey.Verify([1, 2, 3], message, restored.Sign(message)));
        Assert.Throws<ArgumentException>(() => ParticipantSigningKey.Import([1, 2, 3]));
    }

    public void Dispose()
    {
        _budapest.Dispose();
        _zurich.Dispose();
    }
}
