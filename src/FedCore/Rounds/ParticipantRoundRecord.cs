using System.Text.Json;
using System.Text.Json.Serialization;

namespace FedCore.Rounds;

/// <summary>How far a participant got in its latest round of a job.</summary>
public enum RoundStage
{
    /// <summary>Key share and masking key made (step 1).</summary>
    Keyed,
    /// <summary>Key statement revealed against one set of commitments (step 2).</summary>
    Revealed,
    /// <summary>Update sealed; the masking key is erased (step 4).</summary>
    Sealed,
    /// <summary>Part of the opening committed to; the key share is erased (step 6). <see cref="ParticipantRoundRecord.Part"/> says how far it went since.</summary>
    Decrypted,
    /// <summary>Secrets erased before the round ended (superseded, or expired).</summary>
    Abandoned,
}

/// <summary>
/// What a participant must not forget about its latest round of a job, stored in its country's storage before any message
/// that depends on it leaves (FedCore/Rounds/README.md): the round and its members, the stage, the secrets still needed,
/// the key commitments it revealed against, and the round key and plan it accepted (<see cref="KeyChecked"/>: the
/// SHA-256 of both, so that step 3 happens once per round). Secrets: <see cref="Secret"/> (CKKS key share) and
/// <see cref="MaskingKey"/> (ECDH private key); the part's nonce stays unknown until step 7. Never logged; <see cref="ToString"/>
/// leaves them out.
/// </summary>
public sealed record ParticipantRoundRecord(
    int Round,
    IReadOnlyList<string> Participants,
    RoundStage Stage,
    DateTimeOffset StartedAt,
    byte[]? Secret,
    byte[]? MaskingKey,
    IReadOnlyDictionary<string, byte[]>? CommitmentsSeen,
    byte[]? KeyChecked = null,
    PartRecord? Part = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads what <see cref="ToBytes"/> wrote; anything else is an <see cref="ArgumentException"/>.</summary>
    public static ParticipantRoundRecord FromBytes(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<ParticipantRoundRecord>(bytes, Json)
                ?? throw new ArgumentException("A participant's round record is empty.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"A participant's round record cannot be read: {e.Message}", nameof(bytes), e);
        }
    }

    public override string ToString() =>
        $"round {Round} ({Stage}, {Participants.Count} participants, started {StartedAt:O}, secrets {(Secret is null && MaskingKey is null ? "erased" : "held")})";
}

/// <summary>
/// Its part of the latest opening it committed to, from step 6 on, kept when the next round starts (its key share comes
/// with the decryption of this one) until another round reaches step 6. The part itself, model-sized, the host stores apart
/// (<see cref="ParticipantRound.OpeningPart"/>). With it: the round and its members, the plan and chain position it sealed from (no position in an explanation
/// round), its nonce, its commitment, then the part commitments it revealed against (step 6b) and the opened plaintext it
/// fingerprinted (step 7). Each is fixed once: after a restart it neither reveals against other commitments nor answers
/// for another plaintext, which would let the aggregator choose the spot checks.
/// </summary>
public sealed record PartRecord(
    int Round,
    IReadOnlyList<string> Participants,
    byte[] PlanDigest,
    byte[]? ChainPosition,
    byte[] Nonce,
    byte[] Commitment,
    IReadOnlyDictionary<string, byte[]>? CommitmentsSeen = null,
    byte[]? OpenedDigest = null)
{
    public override string ToString() => $"part of round {Round} {(OpenedDigest is not null ? "fingerprinted" : CommitmentsSeen is not null ? "revealed" : "committed")}";
}
