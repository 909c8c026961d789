namespace FedCore.Rounds;

/// <summary>
/// A payload a participant sends out of its country, signed (see <see cref="Aggregation.Integrity.SignedStatement"/>:
/// the signature covers the purpose, job, round, participant, scheme and the payload's SHA-256).
/// </summary>
public sealed record SignedMessage(string ParticipantId, string JobId, int Round, string Scheme, byte[] Payload, byte[] Signature);

/// <summary>Step 1: make a key share for round <paramref name="Round"/> over <paramref name="Participants"/>.</summary>
public sealed record KeyRequest(string JobId, int Round, IReadOnlyList<string> Participants);

/// <summary>Step 2: every member's signed key commitment; the participant answers with its statement and public share.</summary>
public sealed record KeyRevealRequest(string JobId, int Round, IReadOnlyList<SignedMessage> Commitments);

/// <summary>A participant's signed statement (set digest ‖ H(p_i) ‖ its masking public key) and its public key share p_i.</summary>
public sealed record KeyReveal(SignedMessage Statement, byte[] PublicShare);

/// <summary>
/// Step 3: every member's signed statement and public key share (in the members' order) and the digest of the round's plan
/// (<see cref="RoundPlan"/>); the participant sums the shares into the round key itself and answers with its acceptance.
/// </summary>
public sealed record KeyCheckRequest(string JobId, int Round, IReadOnlyList<SignedMessage> Statements, IReadOnlyList<byte[]> PublicShares, byte[] PlanDigest);

/// <summary>Step 4: every member's signed key acceptance; the participant checks them, trains and seals.</summary>
public sealed record SealRequest(string JobId, int Round, IReadOnlyList<SignedMessage> KeyAcceptances);

/// <summary>A sealed update and the signed commitment to it (its SHA-256); how many values the participant clipped stays with it.</summary>
public sealed record Sealed(byte[] SealedUpdate, SignedMessage Commitment, int Clipped = 0)
{
    /// <summary>SHA-256 of <see cref="SealedUpdate"/>, as the participant computed it to sign: the host records this, not a second hash of 8 MB.</summary>
    public byte[] Digest => Commitment.Payload;
}

/// <summary>Step 5: the aggregate's masks and every member's signed commitment; the participant answers with the fingerprint of its masks.</summary>
public sealed record AggregateCheckRequest(string JobId, int Round, byte[] AggregateMasks, IReadOnlyList<SignedMessage> Commitments);

/// <summary>
/// Step 6: every member's signed aggregate fingerprint; the participant answers with its commitment to its part of the
/// opening (<see cref="OpeningSpotCheck"/>).
/// </summary>
public sealed record DecryptRequest(string JobId, int Round, IReadOnlyList<SignedMessage> AggregateFingerprints);

/// <summary>Step 6b: every member's signed part commitment; the participant answers with its part (c0ᵢ + hᵢ).</summary>
public sealed record PartRevealRequest(string JobId, int Round, IReadOnlyList<SignedMessage> PartCommitments);

/// <summary>Step 7: the SHA-256 of the opened plaintext; the participant answers with its nonce and the fingerprint of its part.</summary>
public sealed record OpeningCheckRequest(string JobId, int Round, byte[] OpenedDigest);

/// <summary>Step 7b: every member's signed step-7 answer (nonce and fingerprint); the participant opens its part's leaves at the spot-check positions.</summary>
public sealed record SpotCheckRequest(string JobId, int Round, IReadOnlyList<SignedMessage> OpeningFingerprints);

/// <summary>
/// Step 8: the opened plaintext of round <paramref name="Round"/> over <paramref name="Participants"/>, with every member's
/// signed part commitment, step-7 answer and opened leaves; any party of the job whose model chain stands at the version
/// that round trained on checks it and advances.
/// </summary>
public sealed record OpeningRequest(string JobId, int Round, IReadOnlyList<string> Participants, byte[] Opened, IReadOnlyList<SignedMessage> PartCommitments,
    IReadOnlyList<SignedMessage> OpeningFingerprints, IReadOnlyList<SignedMessage> OpenedLeaves);

/// <summary>What each signed message is: the purpose in its signed statement.</summary>
public static class RoundPurpose
{
    public const string KeyCommitment = "key-commitment";
    public const string KeyStatement = "key-statement";
    public const string KeyAcceptance = "key-acceptance";
    public const string Update = "update";
    public const string AggregateFingerprint = "aggregate-fingerprint";
    public const string PartCommitment = "part-commitment";
    public const string OpeningPart = "opening-part";
    public const string OpeningFingerprint = "opening-fingerprint";
    public const string OpenedLeaves = "opened-leaves";

    /// <summary>A party's feature moments for a job (round 0), from which every member derives the job's scaling.</summary>
    public const string FeatureMoments = "feature-moments";
}
