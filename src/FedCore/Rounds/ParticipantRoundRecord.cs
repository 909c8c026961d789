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
    /// <summary>Decryption share given; the key share is erased (step 6).</summary>
    Decrypted,
    /// <summary>Secrets erased before the round ended (superseded, or expired).</summary>
    Abandoned,
}

/// <summary>
/// What a participant must not forget about its latest round of a job, stored in its country's storage before any message
/// that depends on it leaves (FedCore/Rounds/README.md): the round and its members, the stage, the secrets still needed,
/// the key commitments it revealed against, and the round key and plan it accepted (<see cref="KeyChecked"/>: the
/// SHA-256 of both, so that step 3 happens once per round). Secrets: <see cref="Secret"/> (CKKS key share) and
/// <see cref="MaskingKey"/> (ECDH private key). Never logged; <see cref="ToString"/> leaves them out.
/// </summary>
public sealed record ParticipantRoundRecord(
    int Round,
    IReadOnlyList<string> Participants,
    RoundStage Stage,
    DateTimeOffset StartedAt,
    byte[]? Secret,
    byte[]? MaskingKey,
    IReadOnlyDictionary<string, byte[]>? CommitmentsSeen,
    byte[]? KeyChecked = null)
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
