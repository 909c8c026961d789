using Orleans.Concurrency;

namespace Federation.Contracts.Audit;

/// <summary>
/// The federation's audit log (FedCore/Audit/README.md): one activation orders every append, on the silo that holds the
/// operator's key (<c>AuditLogPlacement</c>). Entries are canonical entry bytes (<c>AuditEntryJson</c>); the log refuses
/// anything that is not one.
/// </summary>
public interface IAuditLogGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Appends the entries in this order, durably, and returns the position of the first. A tree head covering them is
    /// published shortly after (one per batch of appends), signed by the operator and co-signed by each country's witness.
    /// </summary>
    Task<long> Append(IReadOnlyList<byte[]> entries);

    /// <summary>Publishes a head for every entry appended so far (if the latest head does not cover them all) and returns it.
    /// Interleaves, as the log's own publications do: appends go on while a head gathers co-signatures.</summary>
    [AlwaysInterleave]
    Task<AuditHead> PublishHead();

    /// <summary>The latest published head, or null before the first.</summary>
    Task<AuditHead?> GetLatestHead();

    /// <summary>At most <paramref name="count"/> entries from <paramref name="from"/> on, in order.</summary>
    Task<IReadOnlyList<byte[]>> GetEntries(long from, int count);

    /// <summary>The inclusion proof of entry <paramref name="index"/> in the tree of <paramref name="treeSize"/> entries (RFC 9162 §2.1.3).</summary>
    Task<IReadOnlyList<byte[]>> GetInclusionProof(long index, long treeSize);
}

/// <summary>A signed tree head as <c>SignedTreeHead.Write</c> gives it, with what it covers read out for callers.</summary>
[GenerateSerializer, Immutable]
public sealed record AuditHead(
    [property: Id(0)] long Size,
    [property: Id(1)] string RootHex,
    [property: Id(2)] DateTimeOffset Time,
    [property: Id(3)] IReadOnlyList<string> CosignedBy,
    [property: Id(4)] byte[] SignedJson);

/// <summary>
/// A country's audit witness (key <c>&lt;CC&gt;/audit-witness</c>, placed in that country): co-signs the operator's tree
/// heads only when they extend the last one it co-signed (<c>TreeHeadCosigner</c>). Its key and that last head stay in
/// the country's own storage.
/// </summary>
public interface IAuditWitnessGrain : IGrainWithStringKey
{
    /// <summary>The size of the last head this witness co-signed (0 before the first): the consistency proof must start there.</summary>
    Task<long> GetLastSize();

    /// <summary>Co-signs the signed head if the proof shows it extends the last one; otherwise refuses, saying why.</summary>
    Task<AuditCosignResult> Cosign(byte[] signedHead, IReadOnlyList<byte[]> consistencyProof);

    /// <summary>The witness's public key (SubjectPublicKeyInfo DER): what an auditor pins for this country.</summary>
    Task<byte[]> GetPublicKey();
}

/// <summary>A co-signature (64 bytes, P1363) or the reason it was refused.</summary>
[GenerateSerializer, Immutable]
public sealed record AuditCosignResult(
    [property: Id(0)] string Country,
    [property: Id(1)] byte[]? Signature,
    [property: Id(2)] string? Refusal);

public static class AuditWitnessKey
{
    public const string Name = "audit-witness";

    public static string Format(string country) => $"{country}/{Name}";
}
