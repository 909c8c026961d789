namespace Federation.Contracts.Participants;

/// <summary>
/// One organisation in one country (key: see <see cref="ParticipantKey"/>). It activates only on a silo of its own
/// country; its rows never leave it as rows: what leaves is dataset metadata, and, for jobs it accepted, feature moments,
/// test metrics of models it is sent, and what the round protocol sends (FedCore/Rounds/README.md).
/// </summary>
public interface IParticipantGrain : IGrainWithStringKey
{
    Task<ParticipantProfile> Enrol(string displayName);

    Task<ParticipantProfile> GetProfile();

    /// <summary>The country of the silo this activation runs on (residency checks, diagnostics).</summary>
    Task<string> GetHostCountry();

    /// <summary>Registers (and, with catalog details, publishes) a dataset as its organisation approved (approval purpose register-dataset).</summary>
    Task<DatasetSummary> RegisterDataset(DatasetRegistration registration, byte[] approval);

    /// <summary>
    /// Its organisation's membership entry as it would sign it (legal name, members, its public signing key, which it makes
    /// the first time, and the serial: a new one whenever the details differ from the entry in the membership, the same
    /// entry when they do not), unsigned (JSON, FedCore.Governance.Membership.MembershipJson.WriteUnsignedEntry): what
    /// the organisation's approver reviews and approves for <see cref="CreateOrganisationEntry"/>.
    /// </summary>
    Task<byte[]> DraftOrganisationEntry(OrganisationDetails details);

    /// <summary>
    /// Its organisation's membership entry, signed with its own key, for the operator to admit (JSON,
    /// FedCore.Governance.Membership.MembershipJson.WriteEntry), once <paramref name="approval"/> (by its organisation's
    /// approver key, configured at its silo; FedCore/Governance/README.md, "Approvals") approves exactly that entry.
    /// </summary>
    Task<byte[]> CreateOrganisationEntry(OrganisationDetails details, byte[] approval);

    /// <summary>
    /// Signs an agreement it is a party to, after reading and checking it itself: the terms must be those whose digest its
    /// data steward reviewed (<paramref name="termsDigest"/>), every dataset of its own they name registered here, and
    /// <paramref name="approval"/> its organisation's approval of signing these terms. Returns the agreement document after the signature.
    /// </summary>
    Task<byte[]> SignAgreement(string agreementId, string termsDigest, byte[] approval);

    /// <summary>
    /// Suspends, resumes or terminates an agreement it is a party to (signed by it), with its organisation's approval of
    /// exactly this change (terms, position, kind, reason); returns the document after the change.
    /// </summary>
    Task<byte[]> ChangeAgreementStatus(string agreementId, string kind, string reason, byte[] approval);

    Task<IReadOnlyList<DatasetSummary>> GetDatasets();

    /// <summary>What a dataset has spent, its ε stated at <paramref name="delta"/> (+∞ once a round ran on it without DP).</summary>
    Task<PrivacyBudgetSummary> GetPrivacyBudget(string datasetName, double delta);

    /// <summary>The schema (JSON) a registered dataset was read with: metadata, like its catalog entry, that tools need to read rows like it.</summary>
    Task<string> GetDatasetSchema(string datasetName);

    /// <summary>Per-feature count, sums and sums of squares of its training rows for a job it accepted (its pinned dataset and split).</summary>
    Task<FeatureMomentsMessage> ComputeFeatureMoments(string jobId);

    /// <summary>
    /// Takes part in a job: checks its terms and pins them (parties, minimum per round, their signing keys, protection) in
    /// its country's storage. Returns its signed consent (purpose "job-consent", payload the SHA-256 of the pinned terms).
    /// Accepting the same terms again returns a consent to them; other terms for the same job are refused.
    /// </summary>
    Task<SignedPayload> AcceptJob(JobInvitation invitation);

    /// <summary>Round step 1: makes its key share and masking key for the round; returns its signed commitment.</summary>
    Task<SignedPayload> CommitRoundKey(RoundKeyRequest request);

    /// <summary>Round step 2: its signed statement and public key share, once it has every member's commitment; once per round.</summary>
    Task<RoundKeyReveal> RevealRoundKey(RoundKeyRevealRequest request);

    /// <summary>Round step 3: its acceptance of the round key it sums from the members' shares, once the shares and statements check out.</summary>
    Task<SignedPayload> CheckRoundKey(RoundKeyCheckRequest request);

    /// <summary>Round step 4: checks the round key, trains from the global model and seals its update (once per round).</summary>
    Task<LocalTrainingReport> Train(RoundAssignment assignment);

    /// <summary>
    /// Round step 4 of an explanation round: checks the round key (made for the explanation plan of the model sent), computes
    /// the model's permutation importance on its own test split and seals it like an update, weighed by its test rows
    /// (<c>TrainSamples</c> in the report). Only the sum over the round's members is ever decrypted.
    /// </summary>
    Task<LocalTrainingReport> Explain(RoundAssignment assignment);

    /// <summary>Round step 5: the fingerprint of its own update's masks against the aggregate it is shown.</summary>
    Task<SignedPayload> CheckAggregate(RoundAggregateCheckRequest request);

    /// <summary>
    /// Round step 6: its commitment to its part of the opening (its c0 plus its decryption share), once every member's
    /// fingerprint adds up to the aggregate's; once per round (its key share is erased before the commitment leaves).
    /// Optionally also step 1 of the next round.
    /// </summary>
    Task<DecryptionReply> Decrypt(DecryptionRequest request);

    /// <summary>Round step 6b: its part of the opening, once every member's part commitment is in (stored: the same part after a restart).</summary>
    Task<PartReply> RevealPart(RoundPartRevealRequest request);

    /// <summary>
    /// Starts its model chain for a job (FedCore/Rounds/README.md, "The model chain") from every party's signed feature
    /// moments; refuses unless they are one per party, each signed by that party for the job.
    /// </summary>
    Task StartModelChain(string jobId, IReadOnlyList<SignedPayload> moments);

    /// <summary>Step 7: its nonce and the fingerprint of its own part of the round's opened plaintext (one plaintext per round).</summary>
    Task<SignedPayload> CheckOpening(RoundOpeningCheckRequest request);

    /// <summary>Step 7b: its part's leaves, with their Merkle paths, at the spot checks every member's nonce draws.</summary>
    Task<SignedPayload> OpenLeaves(RoundSpotCheckRequest request);

    /// <summary>Step 8: checks an opening and advances its model chain by one version; returns the version it stands at.</summary>
    Task<int> AdvanceModelChain(ModelChainAdvance advance);

    /// <summary>The version its model chain stands at for a job, or −1 if it was not started.</summary>
    Task<int> GetModelChainVersion(string jobId);

    Task<ModelMetrics> Evaluate(EvaluationAssignment assignment);
}
