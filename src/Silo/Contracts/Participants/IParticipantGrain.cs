namespace Federation.Contracts.Participants;

/// <summary>
/// One organisation in one country (key: see <see cref="ParticipantKey"/>). It activates only on a silo of
/// its own country; its rows never leave it — only metadata, feature moments, metrics and what the round protocol sends do.
/// </summary>
public interface IParticipantGrain : IGrainWithStringKey
{
    Task<ParticipantProfile> Enrol(string displayName);

    Task<ParticipantProfile> GetProfile();

    /// <summary>The country of the silo this activation runs on (residency checks, diagnostics).</summary>
    Task<string> GetHostCountry();

    Task<DatasetSummary> RegisterDataset(DatasetRegistration registration);

    Task<IReadOnlyList<DatasetSummary>> GetDatasets();

    Task<FeatureMomentsMessage> ComputeFeatureMoments(DataSplit split);

    /// <summary>
    /// Makes this participant's share of the round key (the secret part stays in its country's storage) and returns the
    /// signed digest of its public part: a commitment, revealed by <see cref="RevealRoundKeyShare"/>.
    /// </summary>
    Task<SignedPayload> CommitRoundKeyShare(RoundKeyRequest request);

    /// <summary>
    /// Its signed public key share, once it has seen every participant's key-share digest (its own among them). Once per
    /// round: it later combines the round key only from shares that match the digests it saw.
    /// </summary>
    Task<SignedPayload> RevealRoundKeyShare(RoundKeyRevealRequest request);

    /// <summary>
    /// Trains from the global model and seals the update under the round key, which it combines itself from the signed
    /// key shares (refused unless they are the ones committed to, its own among them); returns what it commits to (see
    /// <see cref="LocalTrainingReport"/>).
    /// </summary>
    Task<LocalTrainingReport> Train(RoundAssignment assignment);

    Task<ModelMetrics> Evaluate(EvaluationAssignment assignment);

    /// <summary>
    /// Its sealed update and signed commitment, once it has seen every participant's commitment digest (its own among
    /// them). Once per round: the digests it saw are what it later checks the commitments against.
    /// </summary>
    Task<RevealedUpdate> Reveal(RevealRequest request);

    /// <summary>
    /// This participant's share of the joint decryption of the round's aggregate, signed — only if every commitment
    /// is signed by an enrolled participant (one each, its own among them), matches the digest it saw before it
    /// revealed its update, and the aggregate is their sum. Given once
    /// per round key: the secret is erased after use.
    /// </summary>
    Task<DecryptionReply> CreateDecryptionShare(DecryptionRequest request);
}
