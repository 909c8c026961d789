using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Governance.Membership;

namespace Federation.Silo.Governance;

/// <summary>
/// The federation operator's side, kept in one folder of its own (never a silo's storage): its signing key and its copy
/// of the membership chain, <c>membership.json</c>. It admits organisations by signing the next membership record; the
/// silos are configured with its public key only and verify every record themselves (FedCore/Governance/README.md).
/// </summary>
public sealed class FederationOperator : IDisposable
{
    private const string KeyFile = "operator.key", PublicKeyFile = "operator.pub", MembershipFile = "membership.json";
    private readonly ParticipantSigningKey _key;

    private FederationOperator(string directory, ParticipantSigningKey key)
    {
        Directory = directory;
        _key = key;
    }

    public string Directory { get; }

    /// <summary>The operator's public key (SubjectPublicKeyInfo): what every silo is configured with.</summary>
    public byte[] PublicKey => _key.PublicKey;

    public string MembershipPath => Path.Combine(Directory, MembershipFile);

    /// <summary>The private key's file (PKCS#8): the silo that hosts the audit log signs its heads with it.</summary>
    public string KeyPath => Path.Combine(Directory, KeyFile);

    /// <summary>The public key's file, as handed to silos and auditors.</summary>
    public string PublicKeyPath => Path.Combine(Directory, PublicKeyFile);

    /// <summary>The operator of <paramref name="directory"/>: its key, made there (readable by its owner only) the first time.</summary>
    public static FederationOperator LoadOrCreate(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        return new FederationOperator(directory, KeyFiles.LoadOrCreate(Path.Combine(directory, KeyFile), Path.Combine(directory, PublicKeyFile)));
    }

    /// <summary>The operator's public key as stored next to its key (what an operator hands to each country's silo).</summary>
    public static byte[] ReadPublicKey(string path) => File.ReadAllBytes(path);

    /// <summary>The chain as the operator last issued it (empty before the first record).</summary>
    public ImmutableArray<MembershipRecord> Chain() =>
        File.Exists(MembershipPath) ? MembershipJson.Parse(File.ReadAllBytes(MembershipPath), MembershipPath) : [];

    /// <summary>
    /// Admits organisations (new ones, or new entries of existing ones): signs the next record of the chain and stores it.
    /// Entries already in the latest record (the same content and serial, whatever the bytes of their signatures: ECDSA
    /// signs differently each time) are left out; with nothing new, nothing is issued.
    /// </summary>
    /// <returns>The whole chain, to be relayed to the federation's directory.</returns>
    public ImmutableArray<MembershipRecord> Admit(string federation, IEnumerable<SignedOrganisationEntry> entries, IEnumerable<SignedRemoval>? removals = null)
    {
        var chain = Chain();
        var current = chain.IsEmpty ? [] : chain[^1].Organisations.ToDictionary(o => o.Entry.Id);
        var changed = entries.Where(e => !current.TryGetValue(e.Entry.Id, out var known) || !SameEntry(known.Entry, e.Entry)).ToList();
        var removalList = (removals ?? []).ToList();
        if (changed.Count == 0 && removalList.Count == 0 && !chain.IsEmpty)
            return chain;
        var record = chain.IsEmpty
            ? MembershipChain.Start(federation, WholeSeconds(DateTimeOffset.UtcNow), changed, _key)
            : MembershipChain.Append(chain, Later(chain[^1].IssuedAt), changed, removalList, _key);
        chain = chain.Add(record);
        var temporary = MembershipPath + ".tmp";
        File.WriteAllBytes(temporary, MembershipJson.Write(chain));
        File.Move(temporary, MembershipPath, overwrite: true); // an interrupted write leaves the last chain intact
        return chain;
    }

    private static bool SameEntry(OrganisationEntry a, OrganisationEntry b) =>
        a.Id == b.Id && a.Serial == b.Serial && a.Country == b.Country && a.LegalName == b.LegalName
        && a.SigningKey.SequenceEqual(b.SigningKey) && a.Members.ToHashSet().SetEquals(b.Members);

    // Records are stamped in whole seconds and may not go back in time.
    private static DateTimeOffset Later(DateTimeOffset previous)
    {
        var now = WholeSeconds(DateTimeOffset.UtcNow);
        return now > previous ? now : previous;
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    public void Dispose() => _key.Dispose();
}
