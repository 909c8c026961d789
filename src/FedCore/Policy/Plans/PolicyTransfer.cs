namespace FedCore.Policy.Plans;

/// <summary>What crosses a border. JSON and conditions: <c>update</c>, <c>final-model</c>.</summary>
public enum TransferKind
{
    Update,
    FinalModel,
}

/// <summary>
/// One flow out of a country that a plan implies: a participant's model updates to an update destination, or the
/// final model (trained on its data) to a final-model destination, in another country.
/// </summary>
public sealed record PolicyTransfer(PlanParticipant Sender, PlanRecipient Recipient, TransferKind Kind)
{
    public string From => Sender.Country;

    public string To => Recipient.Country;

    public string KindName => Kind == TransferKind.Update ? "update" : "final-model";

    /// <summary>How decisions name it: <c>HU→US (update) of HU/budapest</c>.</summary>
    public string Label => $"{From}→{To} ({KindName}) of {Sender.Organisation}" + (Recipient.Organisation is { } to ? $" to {to}" : "");

    /// <summary>Every transfer of a plan: each participant to each destination in another country, updates then the final model.</summary>
    public static IEnumerable<PolicyTransfer> Derive(PolicyPlan plan) =>
        from kind in new[] { TransferKind.Update, TransferKind.FinalModel }
        from participant in plan.Participants
        from recipient in kind == TransferKind.Update ? plan.UpdateDestinations : plan.FinalModelDestinations
        where recipient.Country != participant.Country
        select new PolicyTransfer(participant, recipient, kind);
}
