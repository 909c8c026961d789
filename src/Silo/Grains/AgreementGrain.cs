using System.Collections.Immutable;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using Federation.Contracts.Agreements;
using Federation.Contracts.Errors;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

[GenerateSerializer]
public sealed class AgreementGrainState
{
    /// <summary>The agreement document (AgreementJson), as of the last transition that verified.</summary>
    [Id(0)]
    public byte[]? Document { get; set; }
}

/// <summary>
/// Relays one agreement's document through its lifecycle (FedCore.Governance.Agreements.Agreement does the rules) and
/// records each transition in the audit log (<see cref="AgreementAudit"/>). A transition that does not verify changes nothing stored.
/// </summary>
public sealed class AgreementGrain(
    [PersistentState("agreement", StorageNames.Cluster)] IPersistentState<AgreementGrainState> state,
    FederationRecords records,
    AuditTrail audit,
    TimeProvider clock,
    ILogger<AgreementGrain> logger) : Grain, IAgreementGrain
{
    private string Id => this.GetPrimaryKeyString();

    public Task<byte[]> Draft(byte[] terms) => Transition("draft", async current =>
    {
        var membership = await records.MembershipAsync();
        var catalog = await records.CatalogAsync(membership);
        var parsed = AgreementJson.ParseTerms(terms, $"terms of agreement '{Id}'", new AgreementReferences(membership, catalog, clock.GetUtcNow()));
        if (parsed.Id != Id)
            throw new GovernanceFormatException($"terms of agreement '{Id}'", "$.id", $"'{parsed.Id}' is not this agreement's id '{Id}'");
        return current is null ? Agreement.Draft(parsed) : current.EditTerms(parsed, clock.GetUtcNow());
    }, mayBeNew: true);

    public Task<byte[]> Propose() => Transition("propose", current => Task.FromResult(current!.Propose(clock.GetUtcNow())));

    public Task<byte[]> AddSignature(string party, byte[] signature) => Transition("sign", async current =>
        current!.Sign(new PartySignature(party, [.. signature]), await records.MembershipAsync(), clock.GetUtcNow()));

    public Task<byte[]> ChangeStatus(StatusChangeMessage change) => Transition(change.Kind, async current =>
    {
        if (!Enum.TryParse<StatusChangeKind>(change.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
            throw new AgreementException(Id, $"'{change.Kind}' is not a status change (suspend, resume, terminate)");
        var signed = new SignedStatusChange(
            new StatusChange(change.Agreement, change.TermsDigest, change.Sequence, kind, change.Party, change.At, change.Reason), [.. change.Signature]);
        return current!.ChangeStatus(signed, await records.MembershipAsync(), clock.GetUtcNow());
    });

    public Task<byte[]?> Get() => Task.FromResult(state.State.Document);

    private async Task<byte[]> Transition(string what, Func<Agreement?, Task<Agreement>> apply, bool mayBeNew = false)
    {
        Agreement? current = null;
        if (state.State.Document is { } document)
            current = FederationRecords.Read(document, Id, await records.MembershipAsync());
        else if (!mayBeNew)
            throw new FederationOperationException("agreement.unknown", $"There is no agreement '{Id}' to {what}.");
        Agreement next;
        try
        {
            next = await apply(current);
        }
        catch (GovernanceException e)
        {
            logger.LogWarning("Agreement {Agreement}: {Transition} refused: {Reason}", Id, what, e.Message);
            throw new FederationOperationException("agreement.refused", e.Message);
        }
        // Recorded first: a transition the log could not take is not made.
        await audit.RecordAsync([.. AgreementAudit.Entries(current, next, audit.Now, FedCore.Audit.Entries.AuditActor.Federation, audit.Country)]);
        state.State.Document = AgreementJson.Write(next);
        await state.WriteStateAsync();
        logger.LogInformation("Agreement {Agreement}: {Transition} → {State}", Id, what, next.StateAt(clock.GetUtcNow()));
        return state.State.Document;
    }
}
