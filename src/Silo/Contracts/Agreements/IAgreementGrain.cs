namespace Federation.Contracts.Agreements;

/// <summary>
/// A party's signed change of an agreement's status (suspend, resume, terminate), as FedCore.Governance defines it; the
/// signature covers every other field.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StatusChangeMessage(
    [property: Id(0)] string Agreement,
    [property: Id(1)] string TermsDigest,
    [property: Id(2)] int Sequence,
    [property: Id(3)] string Kind,
    [property: Id(4)] string Party,
    [property: Id(5)] DateTimeOffset At,
    [property: Id(6)] string Reason,
    [property: Id(7)] byte[] Signature);

/// <summary>
/// One data-sharing agreement (key: its id): a relay for its signed document (terms, party signatures, status changes;
/// FedCore/Governance/README.md). It applies each transition only if it verifies against the federation's membership, but
/// it is not trusted: every participant reads and verifies the document itself wherever it is used. Every method returns
/// the document after the change.
/// </summary>
public interface IAgreementGrain : IGrainWithStringKey
{
    /// <summary>Drafts the agreement from its terms (JSON), or replaces the terms of a draft or proposal (which drops every signature).</summary>
    Task<byte[]> Draft(byte[] terms);

    /// <summary>Freezes the terms so that parties can sign them.</summary>
    Task<byte[]> Propose();

    /// <summary>A party's signature over the terms' canonical bytes; the last one makes the agreement active.</summary>
    Task<byte[]> AddSignature(string party, byte[] signature);

    Task<byte[]> ChangeStatus(StatusChangeMessage change);

    /// <summary>The agreement document (null if none was drafted).</summary>
    Task<byte[]?> Get();
}
