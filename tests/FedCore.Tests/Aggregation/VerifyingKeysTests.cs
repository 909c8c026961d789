using FedCore.Aggregation.Integrity;

namespace FedCore.Tests.Aggregation;

/// <summary>The keys remember what verified (VerifyingKeys): nothing but the same bytes from the same party may ride on that.</summary>
public sealed class VerifyingKeysTests : IDisposable
{
    private readonly ParticipantSigningKey _budapest = ParticipantSigningKey.Generate();
    private readonly ParticipantSigningKey _zurich = ParticipantSigningKey.Generate();
    private readonly VerifyingKeys _keys;

    public VerifyingKeysTests() => _keys = new VerifyingKeys(new Dictionary<string, byte[]>
    {
        ["HU/budapest"] = _budapest.PublicKey,
        ["CH/zurich"] = _zurich.PublicKey,
    });

    [Fact]
    public void A_signature_that_verified_lends_nothing_to_another_message_party_or_signature()
    {
        byte[] message = "part commitment of HU/budapest"u8.ToArray(), other = "part commitment of HU/budapesT"u8.ToArray();
        byte[] signature = _budapest.Sign(message);
        Assert.True(_keys.Verifies("HU/budapest", message, signature));

        Assert.False(_keys.Verifies("HU/budapest", other, signature));
        Assert.False(_keys.Verifies("CH/zurich", message, signature));
        byte[] flipped = [.. signature];
        flipped[^1] ^= 1;
        Assert.False(_keys.Verifies("HU/budapest", message, flipped));
        Assert.True(_keys.Verifies("HU/budapest", message, signature));
    }

    [Fact]
    public void A_view_shares_what_verified_but_answers_only_for_its_own_parties()
    {
        byte[] message = "step-7 answer"u8.ToArray();
        byte[] signature = _budapest.Sign(message);
        Assert.True(_keys.Of(["HU/budapest", "CH/zurich"]).Verifies("HU/budapest", message, signature));

        Assert.False(_keys.Of(["CH/zurich"]).Verifies("HU/budapest", message, signature));
        Assert.True(_keys.Of(["HU/budapest"]).Verifies("HU/budapest", message, signature));
    }

    [Fact]
    public void A_signature_refused_once_is_refused_again()
    {
        byte[] message = "opened leaves"u8.ToArray();
        byte[] byZurich = _zurich.Sign(message);
        Assert.False(_keys.Verifies("HU/budapest", message, byZurich));
        Assert.False(_keys.Verifies("HU/budapest", message, byZurich));
        Assert.True(_keys.Verifies("CH/zurich", message, byZurich));
        Assert.False(_keys.Verifies("HU/budapest", message, byZurich));
    }

    public void Dispose()
    {
        _budapest.Dispose();
        _zurich.Dispose();
    }
}
