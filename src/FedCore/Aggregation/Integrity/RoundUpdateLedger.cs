using System.Security.Cryptography;

namespace FedCore.Aggregation.Integrity;

/// <summary>
/// The aggregator's gate for one round: it accepts a signed payload only if it is for this job and round,
/// from an expected participant, correctly signed with that participant's registered key, the first from that
/// participant, and not a byte-for-byte copy of another participant's payload (unless <paramref name="allowCopies"/>: two
/// parties may hold the same data, and so sign the same feature moments). Anything else is refused with the reason, and
/// the ledger is unchanged.
/// </summary>
public sealed class RoundUpdateLedger(string purpose, string jobId, int round, string scheme, VerifyingKeys participantPublicKeys,
    bool allowCopies = false)
{
    private readonly Dictionary<string, byte[]> _accepted = [];
    private readonly HashSet<string> _payloadHashes = [];

    public IReadOnlyDictionary<string, byte[]> Accepted => _accepted;

    public bool IsComplete => _accepted.Count == participantPublicKeys.Count;

    public void Accept(string participantId, string claimedJobId, int claimedRound, string claimedScheme, byte[] payload, byte[] signature)
    {
        string who = $"{purpose} from '{participantId}' for job '{claimedJobId}' round {claimedRound}";
        if (claimedJobId != jobId || claimedRound != round)
            throw new RejectedUpdateException(participantId, $"{who} refused: this is job '{jobId}' round {round} (a replay or a stray message).");
        if (claimedScheme != scheme)
            throw new RejectedUpdateException(participantId, $"{who} refused: scheme '{claimedScheme}', the round uses '{scheme}'.");
        if (!participantPublicKeys.Contains(participantId))
            throw new RejectedUpdateException(participantId, $"{who} refused: '{participantId}' has no signing key among those this check accepts (not a participant of the round, or not enrolled).");
        if (_accepted.ContainsKey(participantId))
            throw new RejectedUpdateException(participantId, $"{who} refused: '{participantId}' already sent one this round (duplicate).");
        var statement = SignedStatement.For(purpose, claimedJobId, claimedRound, participantId, claimedScheme, payload);
        if (!participantPublicKeys.Verifies(participantId, statement.ToBytes(), signature))
            throw new RejectedUpdateException(participantId, $"{who} refused: the signature does not verify with the participant's registered key.");
        // A copy of another participant's payload (an update replayed under a second name) is refused; empty
        // payloads (the plaintext simulation's key and decryption shares) carry nothing to copy.
        var hash = Convert.ToHexString(statement.PayloadSha256);
        if (payload.Length > 0 && !allowCopies && _payloadHashes.Contains(hash))
            throw new RejectedUpdateException(participantId, $"{who} refused: the same payload was already sent by another participant (a copy).");
        _payloadHashes.Add(hash);
        _accepted[participantId] = payload;
    }
}

public sealed class RejectedUpdateException(string participantId, string message) : Exception(message)
{
    public string ParticipantId { get; } = participantId;
}
