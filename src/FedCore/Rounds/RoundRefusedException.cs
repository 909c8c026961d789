namespace FedCore.Rounds;

/// <summary>
/// A participant or the job refused a round message: <see cref="Code"/> says what the job should do (see
/// <see cref="RoundRefusal"/>), the message names the participant, the step and the reason.
/// </summary>
public sealed class RoundRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>Refusal codes.</summary>
public static class RoundRefusal
{
    /// <summary>The request breaks a rule of the protocol or of the pinned terms: the job has a bug or is dishonest.</summary>
    public const string Refused = "round.refused";

    /// <summary>The participant lost its round memory (it restarted): the job should start a new round.</summary>
    public const string Restarted = "round.participant-restarted";

    /// <summary>The participant will not help decrypt what it was shown: it is not the sum of the round's updates.</summary>
    public const string AggregateRefused = "round.aggregate-refused";

    /// <summary>The job refused a participant's message (a bad signature, a share that is not the one committed to, …).</summary>
    public const string Rejected = "round.rejected";

    /// <summary>The model (or scaling) is not the one the participant's model chain stands at: it scores or explains no other.</summary>
    public const string OffChain = "round.off-chain";

    /// <summary>Too few participants are left for a round.</summary>
    public const string TooFew = "round.too-few-participants";
}
