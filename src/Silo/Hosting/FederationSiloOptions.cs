using FedCore.Governance.Approvals;
using FedCore.Governance.Membership;
using Federation.Silo.Transfer;

namespace Federation.Silo.Hosting;

/// <summary>How one silo of the federation is set up.</summary>
public sealed record FederationSiloOptions
{
    /// <summary>ISO 3166-1 alpha-2 code of the country this silo runs in; it is declared in the silo's metadata.</summary>
    public required string Country { get; init; }

    /// <summary>
    /// Root of this silo's files. The cluster's shared state (jobs, model versions, the directory) lives in
    /// <c>cluster.db</c> there; the country's own state (its participants, with their signing keys and round key shares) in
    /// <c>countries/&lt;CC&gt;/country.db</c>, which only this country's silos open.
    /// </summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// Torch intra-op threads per training. Participants of a silo train in parallel, so one thread each avoids
    /// oversubscribing the cores (measured 10–40× slower for small models with 2 threads each on 2 cores).
    /// </summary>
    public int TorchIntraOpThreads { get; init; } = 1;

    /// <summary>
    /// The federation operator's public key (SubjectPublicKeyInfo DER). The silo verifies the membership chain against it
    /// and accepts nothing it cannot verify; only the operator's own folder holds the private half.
    /// </summary>
    public byte[]? OperatorPublicKey { get; init; }

    /// <summary>
    /// The federation operator's private key (PKCS#8 file, the operator folder's <c>operator.key</c>), on the silo that hosts
    /// the audit log and signs its tree heads with it (FedCore/Audit/README.md). Null on every other silo: the log is placed
    /// only where the key is.
    /// </summary>
    public string? OperatorKeyPath { get; init; }

    /// <summary>
    /// Each organisation's approver public key (SubjectPublicKeyInfo DER), by organisation id (<c>HU/budapest</c>). A
    /// participant signs its membership entry, an agreement or a status change only with an approval made by its
    /// organisation's approver key (FedCore/Governance/README.md, "Approvals"), checked against the key configured here,
    /// never against anything the cluster hands it. The private half stays with the organisation, outside the cluster.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> ApproverPublicKeys { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>
    /// A folder of approver public keys, <c>&lt;CC&gt;-&lt;name&gt;.pub</c> (see <see cref="Governance.Approvers"/>), read when an
    /// approval is checked, for organisations not in <see cref="ApproverPublicKeys"/>: the embedded default's
    /// <c>data/approvers</c>, where its setup makes each organisation's approver key when it sets the organisation up.
    /// </summary>
    public string? ApproverKeyDirectory { get; init; }

    /// <summary>
    /// Whether this silo's participants may take part in jobs whose protection is the plaintext simulation (updates sent
    /// in the clear). Off unless the operator turns it on; a job cannot turn it on.
    /// </summary>
    public bool AllowSimulation { get; init; }

    /// <summary>
    /// The folder of policy files this silo decides with (policies/README.md): its job grains before a job and each round,
    /// its participants before they train. Null: no decision, so no job and no round. By default the nearest
    /// <c>policies</c> folder from the current directory upwards, else the one shipped next to the executable.
    /// </summary>
    public string? PoliciesDirectory { get; init; } = Governance.SiloPolicies.DefaultFolder();

    /// <summary>A round's secrets (key share, masking key) not used up within this time are erased.</summary>
    public TimeSpan RoundSecretLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The largest message body, in bytes, a silo of this federation sends or accepts (Orleans'
    /// <c>MaxMessageBodySize</c>; a connection that carries a larger one is closed). Byte arrays that may be larger,
    /// such as encrypted models, travel as chunked payloads (<see cref="Transfer"/>).
    /// </summary>
    public int MaxMessageBodySize { get; init; } = DefaultMaxMessageBodySize;

    public const int DefaultMaxMessageBodySize = 64 * 1024 * 1024;

    /// <summary>
    /// How long a call may take before its caller gives up (Orleans' <c>ResponseTimeout</c>, 30 s by default): local training
    /// and sealing of a large model take minutes on a small machine. A silo that is down is noticed at once all the same.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How many of this silo's participants do heavy local work (training, sealing, checking an aggregate, decrypting,
    /// stepping a model chain, scoring) at once; the others wait their turn. One per core by default: more would only share
    /// the cores, while each holds its working memory (tens of MB per 10⁶ parameters) all the while.
    /// </summary>
    public int ConcurrentParticipantWork { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How many members a job grain on this silo sends one step's message to at once; the rest follow as those answer. Every
    /// member trains at once all the same (training is where members work in parallel). A message in flight holds its bytes
    /// (a model, the aggregate's masks, the opened plaintext: megabytes per 10⁶ parameters) in the sender's and the
    /// receiver's buffers, while the job's bandwidth, not its concurrency, bounds how soon a step reaches every member.
    /// </summary>
    public int ConcurrentMemberCalls { get; init; } = 16;

    /// <summary>
    /// How long a job waits before it tries a round again, times the number of tries so far, at most five times (members or
    /// a grain of its own out of reach): long enough, summed, for a silo that stops to finish stopping, so that its grains
    /// are activated elsewhere.
    /// </summary>
    public TimeSpan RoundRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Chunk size, inline limit and expiry of payload transfers; checked against <see cref="MaxMessageBodySize"/> when the silo starts.</summary>
    public PayloadTransferOptions Transfer { get; init; } = new();

    public string ClusterDatabasePath => Path.Combine(DataDirectory, "cluster.db");

    public string CountryDatabasePath => Path.Combine(DataDirectory, "countries", Country, "country.db");

    public void Validate()
    {
        if (Country is not { Length: 2 } || !char.IsAsciiLetterUpper(Country[0]) || !char.IsAsciiLetterUpper(Country[1]))
            throw new ArgumentException($"Silo country '{Country}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU').");
        if (string.IsNullOrWhiteSpace(DataDirectory))
            throw new ArgumentException("The silo needs a data directory.");
        if (RoundRetryDelay < TimeSpan.Zero)
            throw new ArgumentException($"RoundRetryDelay is {RoundRetryDelay}: a job cannot wait less than no time before it tries a round again.");
        if (ConcurrentMemberCalls < 1)
            throw new ArgumentException($"ConcurrentMemberCalls is {ConcurrentMemberCalls}: a job needs to reach at least one member at a time.");
        if (ConcurrentParticipantWork < 1)
            throw new ArgumentException($"ConcurrentParticipantWork is {ConcurrentParticipantWork}: a silo needs at least one turn for its participants' work.");
        if (OperatorKeyPath is not null && !File.Exists(OperatorKeyPath))
            throw new ArgumentException($"The operator key file {OperatorKeyPath} does not exist.");
        foreach (var (organisation, key) in ApproverPublicKeys)
        {
            if (!OrganisationId.TryParse(organisation, out _, out var problem))
                throw new ArgumentException($"Approver public keys: {problem}.");
            if (!Approval.IsApproverKey(key))
                throw new ArgumentException($"Approver public keys: the key for '{organisation}' is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER, 91 bytes).");
        }
    }
}

/// <summary>Names of the grain storages every silo registers.</summary>
public static class StorageNames
{
    /// <summary>Shared by the cluster: jobs, model versions, the directory. No secrets: its write-ahead log may keep erased content until it closes.</summary>
    public const string Cluster = "cluster";

    /// <summary>Local to the silo's country: participants' state and secrets; an erased secret leaves no copy in its files.</summary>
    public const string Country = "country";
}
