using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// The fixed schema every condition is type-checked against at load time, and every plan's facts are built to. It is
/// closed: an attribute not here is an error in a policy file, never a silent false. policies/README.md lists it.
/// </summary>
public static class FactSchema
{
    private static FactField Field(string name, FactType type, string meaning) => new(name, type, false, meaning);

    private static FactField Optional(string name, FactType type, string meaning) => new(name, type, true, meaning);

    private static readonly FactType Strings = FactType.ListOf(FactType.Text);

    public static readonly ObjectType Dataset = new("dataset",
    [
        Field("id", FactType.Text, "the dataset's id in the catalog"),
        Field("organisation", FactType.Text, "the organisation holding it (CC/name)"),
        Field("country", FactType.Text, "the country it is held in (ISO 3166-1 alpha-2)"),
        Field("categories", Strings, "data categories: health, genetic, biometric, financial, …"),
        Field("rows", FactType.Number, "number of records"),
        Optional("privacyUnit", FactType.Text, "what one record protects under DP: person, record, …"),
        Optional("epsilonCap", FactType.Number, "the dataset's own DP budget"),
        Optional("epsilonSpent", FactType.Number, "DP budget already spent"),
        Optional("epsilonRemaining", FactType.Number, "epsilonCap − epsilonSpent (given when both are)"),
    ]);

    public static readonly ObjectType Participant = new("participant",
    [
        Field("organisation", FactType.Text, "the organisation's id (CC/name)"),
        Field("country", FactType.Text, "its country (ISO 3166-1 alpha-2)"),
        Optional("sector", FactType.Text, "commercial, public, non-profit, …"),
        Field("certifications", Strings, "certifications it holds (eu-us-dpf, pipl-certification, …)"),
        Field("attestations", Strings, "consents and other attestations it gives (pipl-separate-consent, …)"),
        Field("categories", Strings, "the categories of all its datasets in the plan"),
        Field("rows", FactType.Number, "the rows of all its datasets in the plan"),
    ]);

    public static readonly ObjectType Mechanism = new("mechanism",
    [
        Field("from", FactType.Text, "exporting country"),
        Field("to", FactType.Text, "importing country"),
        Field("mechanism", FactType.Text, "eu-scc-2021, bcr, pipl-standard-contract, cac-security-assessment, …"),
        Field("transferImpactAssessment", FactType.Boolean, "whether a transfer impact assessment was made for it"),
    ]);

    public static readonly ObjectType Recipient = new("recipient",
    [
        Optional("organisation", FactType.Text, "the receiving organisation"),
        Field("country", FactType.Text, "its country (the transfer's to)"),
        Optional("sector", FactType.Text, "commercial, public, …"),
        Field("certifications", Strings, "certifications it holds (eu-us-dpf, …)"),
    ]);

    public static readonly ObjectType Plan = new("plan",
    [
        Field("at", FactType.Date, "the day the plan is evaluated (UTC)"),
        Field("jobId", FactType.Text, "the job"),
        Field("purpose", FactType.Text, "the job's purpose"),
        Optional("round", FactType.Number, "the round about to run (absent before the job starts)"),
        Field("recurring", FactType.Boolean, "more than one round, or a repeated job"),
        Field("modelClass", FactType.Text, "logistic, mlp, …"),
        Optional("strategy", FactType.Text, "fedavg, fedprox, fedadam, …"),
        Field("minParticipants", FactType.Number, "the job's minimum participants per round"),
        Field("participantCount", FactType.Number, "how many participants the plan lists"),
        Field("protection", FactType.Text, "how updates are protected: ckks, plaintext-simulation or none"),
        Field("countries", Strings, "the participants' countries"),
        Field("categories", Strings, "the categories of all datasets"),
        Field("updateDestinations", Strings, "countries model updates go to (the aggregator's)"),
        Field("finalModelDestinations", Strings, "countries the final model goes to"),
        Field("updatesCrossBorder", FactType.Boolean, "some participant's updates go to another country"),
        Field("participants", FactType.ListOf(Participant), "the participants"),
        Field("datasets", FactType.ListOf(Dataset), "every participant's datasets"),
    ]);

    public static readonly ObjectType Agreement = new("agreement",
    [
        Field("id", FactType.Text, "the agreement the job runs under"),
        Field("minParticipants", FactType.Number, "the agreement's minimum participants per round"),
        Optional("epsilonCap", FactType.Number, "the agreement's DP budget per dataset"),
        Optional("delta", FactType.Number, "the agreement's DP δ"),
        Field("differentialPrivacy", FactType.Boolean, "the agreement has DP terms (its epsilonCap is given)"),
        Field("simulation", FactType.Boolean, "the agreement is marked for simulation: rehearsals on synthetic data"),
        Field("updateDestinations", Strings, "countries the agreement lets updates go to"),
        Field("finalModelDestinations", Strings, "countries the agreement lets the final model go to"),
        Field("transferMechanisms", FactType.ListOf(Mechanism), "transfer mechanisms the agreement puts in place"),
    ]);

    public static readonly ObjectType Dp = new("dp",
    [
        Field("enabled", FactType.Boolean, "whether the job adds differential-privacy noise"),
        Optional("epsilon", FactType.Number, "the ε the job would spend"),
        Optional("delta", FactType.Number, "its δ"),
        Optional("noiseMultiplier", FactType.Number, "σ"),
        Optional("clippingNorm", FactType.Number, "C"),
    ]);

    public static readonly ObjectType Transfer = new("transfer",
    [
        Field("from", FactType.Text, "the exporting participant's country"),
        Field("to", FactType.Text, "the importing country"),
        Field("kind", FactType.Text, "update or final-model"),
        Field("organisation", FactType.Text, "the exporting participant"),
        Optional("sector", FactType.Text, "its sector"),
        Field("certifications", Strings, "its certifications"),
        Field("attestations", Strings, "its consents and attestations"),
        Field("categories", Strings, "the categories of its datasets"),
        Field("rows", FactType.Number, "the rows of its datasets"),
        Field("personalData", FactType.Boolean, "whether what moves is personal data (settings.yaml)"),
        Field("mechanisms", Strings, "mechanisms the agreement lists for from→to"),
        Field("assessedMechanisms", Strings, "those of them with a transfer impact assessment"),
        Field("recipient", Recipient, "who receives"),
    ]);

    /// <summary>The names a plan-level condition starts from; <c>lists</c> is added per pack.</summary>
    public static ImmutableDictionary<string, FactType> PlanScope(ObjectType lists) =>
        ImmutableDictionary.CreateRange(new Dictionary<string, FactType>
        {
            ["plan"] = Plan, ["agreement"] = Agreement, ["dp"] = Dp, ["lists"] = lists,
        });

    /// <summary>A transfer-level condition sees the plan-level names and <c>transfer</c>.</summary>
    public static ImmutableDictionary<string, FactType> TransferScope(ObjectType lists) => PlanScope(lists).Add("transfer", Transfer);

    /// <summary>A pack's <c>appliesTo</c> sees the plan-level names and <c>participant</c>, the one deciding for itself.</summary>
    public static ImmutableDictionary<string, FactType> ParticipantScope(ObjectType lists) => PlanScope(lists).Add("participant", Participant);

    public static IEnumerable<ObjectType> AllObjects => [Plan, Participant, Dataset, Agreement, Mechanism, Dp, Transfer, Recipient];
}
