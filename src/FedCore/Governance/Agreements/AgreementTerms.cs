using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;
using FedCore.Learning;

namespace FedCore.Governance.Agreements;

/// <summary>How model updates are protected. JSON: ckks, plaintext-simulation (only in an agreement marked for simulation).</summary>
public enum ProtectionScheme
{
    Ckks,
    PlaintextSimulation,
}

/// <param name="UpdateBound">The bound on every update value (it sets the encryption scale); positive.</param>
public sealed record ProtectionTerms(ProtectionScheme Scheme, decimal UpdateBound);

/// <summary>
/// Differential-privacy limits the parties agreed to. Recorded and validated here; enforced by the privacy ledger
/// and the trainer, not by this model.
/// </summary>
/// <param name="EpsilonCap">Most ε any one dataset may spend under this agreement; positive.</param>
/// <param name="Delta">The δ of (ε, δ)-DP; in (0, 1).</param>
/// <param name="MaxClippingNorm">Largest L2 norm an update may be clipped to; positive.</param>
/// <param name="MinNoiseMultiplier">Smallest Gaussian noise σ / clipping norm a job may use; positive.</param>
public sealed record DifferentialPrivacyTerms(decimal EpsilonCap, decimal Delta, decimal MaxClippingNorm, decimal MinNoiseMultiplier);

/// <summary>
/// How the parties allow a job to train, so that no coordinator picks settings that keep consecutive global models nearly
/// equal: with them, sums over S and S ∖ {v} of two consecutive versions read v's update almost exactly
/// (src/FedCore/Crypto/Multiparty/VerifiedAggregation.md, "Across rounds"). Every setting that scales the server's step
/// is fixed (a job uses one of <see cref="Strategies"/> exactly: an adaptive optimiser's τ or β₁ shrinks the step as its
/// learning rate does), and the local learning rate has a floor. Absent, any settings are allowed.
/// </summary>
/// <param name="Strategies">The server strategies a job may use, each with every setting.</param>
/// <param name="MinLearningRate">Smallest local learning rate; positive.</param>
/// <param name="MaxRowShare">
/// Largest share of all parties' training rows one party's signed feature moments may count, in (0, 1]; absent, any. A
/// party that counts many rows weighs its own update against the others': a colluder's zeros at a large count damp
/// every step and hold the model nearly still (VerifiedAggregation.md, section 2).
/// </param>
public sealed record TrainingTerms(ImmutableArray<StrategyTerms> Strategies, decimal MinLearningRate, decimal? MaxRowShare = null);

/// <summary>One server strategy with its settings (FedCore.Aggregation.Strategies.StrategyOptions; β and τ matter to the adaptive ones only).</summary>
public sealed record StrategyTerms(string Name, decimal ServerLearningRate, decimal Beta1 = 0.9m, decimal Beta2 = 0.99m, decimal Tau = 0.001m)
{
    public Aggregation.Strategies.StrategyOptions ToOptions() => new(Name, (double)ServerLearningRate, (double)Beta1, (double)Beta2, (double)Tau);
}

/// <summary>
/// A party to an agreement, the datasets (names in its catalog) it contributes, and what it states of itself for the
/// policies (policies/README.md): its sector (commercial, public, …), the certifications it holds (eu-us-dpf, …) and
/// its attestations, the legal bases it processes under (gdpr-art9-research, pipl-separate-consent, …). Every party signs
/// them with the terms, so no coordinator can add or drop one.
/// </summary>
public sealed record AgreementParty(
    string Organisation,
    ImmutableArray<string> Datasets,
    string? Sector = null,
    ImmutableArray<string> Certifications = default,
    ImmutableArray<string> Attestations = default)
{
    public ImmutableArray<string> Certifications { get; init; } = Certifications.IsDefault ? [] : Certifications;

    public ImmutableArray<string> Attestations { get; init; } = Attestations.IsDefault ? [] : Attestations;
}

/// <summary>
/// A transfer mechanism the parties put in place for personal data going from one country to another (eu-scc-2021,
/// bcr, pipl-standard-contract, anpd-standard-clauses, …), and whether a transfer impact assessment was made for it.
/// </summary>
public sealed record TransferMechanismTerms(string From, string To, string Mechanism, bool TransferImpactAssessment);

/// <summary>
/// What the parties of a data-sharing agreement sign: who takes part with which datasets, at least how many, where
/// model updates (the aggregator's country) and the final model may go, which model classes, which protection and
/// bound, and when. Each party signs tag <c>federation/agreement/terms/v1</c> over the canonical terms; lists are
/// sets, written in sorted order, so the order a file lists them in never matters.
/// </summary>
public sealed record AgreementTerms(
    string Id,
    string Title,
    string Purpose,
    ImmutableArray<AgreementParty> Parties,
    ImmutableArray<string> UpdateDestinations,
    ImmutableArray<string> FinalModelDestinations,
    ImmutableArray<ModelKind> ModelClasses,
    int MinParticipants,
    ProtectionTerms Protection,
    bool Simulation,
    DifferentialPrivacyTerms? DifferentialPrivacy,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidUntil,
    ImmutableArray<TransferMechanismTerms> TransferMechanisms = default,
    TrainingTerms? Training = null)
{
    public ImmutableArray<TransferMechanismTerms> TransferMechanisms { get; init; } = TransferMechanisms.IsDefault ? [] : TransferMechanisms;

    /// <summary>No job runs with fewer participants, whatever an agreement says: below three, the sum tells too much about each.</summary>
    public const int MinimumParticipants = 3;

    internal const string Tag = "federation/agreement/terms/v1";

    /// <summary>Lower-case hex SHA-256 of the canonical terms: their identity in status statements and pinned terms.</summary>
    public string Digest => Statement.Digest(CanonicalBytes());

    public AgreementParty? Party(string organisation) => Parties.FirstOrDefault(p => p.Organisation == organisation);

    internal byte[] CanonicalBytes() => CanonicalJson.Write(AgreementJson.ToJson(this));

    /// <summary>The rules terms keep on their own; references to members and datasets are checked by the reader.</summary>
    internal void Check(string source, string path)
    {
        void Fail(string field, string problem) => throw new GovernanceFormatException(source, $"{path}.{field}", problem);

        if (!Formats.IsName(Id))
            Fail("id", $"'{Id}' must be non-empty and use only letters, digits, '-', '_' or '.'");
        if (!Formats.IsText(Title))
            Fail("title", "must not be empty or blank");
        if (!Formats.IsText(Purpose))
            Fail("purpose", "must not be empty or blank");
        CheckParties(Fail);
        CheckCountries("updateDestinations", UpdateDestinations, Fail);
        CheckCountries("finalModelDestinations", FinalModelDestinations, Fail);
        if (ModelClasses.IsDefaultOrEmpty)
            Fail("modelClasses", "must name at least one model class");
        for (int i = 0; i < ModelClasses.Length; i++)
            if (!Enum.IsDefined(ModelClasses[i]))
                Fail($"modelClasses[{i}]", $"must be one of {Formats.Names<ModelKind>()}");
        int duplicate = Formats.FirstDuplicate(ModelClasses, Formats.Name);
        if (duplicate >= 0)
            Fail($"modelClasses[{duplicate}]", $"'{Formats.Name(ModelClasses[duplicate])}' is listed twice");
        if (MinParticipants < MinimumParticipants || MinParticipants > Parties.Length)
            Fail("minParticipants", $"must be from {MinimumParticipants} to the number of parties ({Parties.Length}), not {MinParticipants}");
        CheckProtection(Fail);
        if (DifferentialPrivacy is { } dp)
        {
            if (!IsPositive(dp.EpsilonCap))
                Fail("differentialPrivacy.epsilonCap", $"must be positive, not {dp.EpsilonCap}");
            if (!IsPositive(dp.Delta) || dp.Delta >= 1)
                Fail("differentialPrivacy.delta", $"must lie strictly between 0 and 1, not {dp.Delta}");
            if (!IsPositive(dp.MaxClippingNorm))
                Fail("differentialPrivacy.maxClippingNorm", $"must be positive, not {dp.MaxClippingNorm}");
            if (!IsPositive(dp.MinNoiseMultiplier))
                Fail("differentialPrivacy.minNoiseMultiplier", $"must be positive, not {dp.MinNoiseMultiplier}");
        }
        if (Training is { } training)
        {
            if (training.Strategies.IsDefaultOrEmpty)
                Fail("training.strategies", "must name at least one server strategy");
            else
                for (int i = 0; i < training.Strategies.Length; i++)
                {
                    try
                    {
                        training.Strategies[i].ToOptions().Validate();
                    }
                    catch (ArgumentException e)
                    {
                        Fail($"training.strategies[{i}]", e.Message);
                    }
                }
            if (!IsPositive(training.MinLearningRate))
                Fail("training.minLearningRate", $"must be positive, not {training.MinLearningRate}");
            if (training.MaxRowShare is { } share && (!IsPositive(share) || share > 1))
                Fail("training.maxRowShare", $"must lie in (0, 1], not {share}");
        }
        CheckTransferMechanisms(Fail);
        if (!Formats.IsUtcSeconds(ValidFrom))
            Fail("validFrom", "must be a UTC time in whole seconds");
        if (!Formats.IsUtcSeconds(ValidUntil))
            Fail("validUntil", "must be a UTC time in whole seconds");
        if (ValidFrom >= ValidUntil)
            Fail("validUntil", $"{Formats.Time(ValidUntil)} must be later than validFrom {Formats.Time(ValidFrom)}");
    }

    private void CheckParties(Action<string, string> fail)
    {
        if (Parties.IsDefault || Parties.Length < MinimumParticipants)
            fail("parties", $"must list at least {MinimumParticipants} parties");
        for (int i = 0; i < Parties.Length; i++)
        {
            var party = Parties[i];
            if (party is null)
                fail($"parties[{i}]", "is required");
            if (!OrganisationId.TryParse(party!.Organisation, out _, out var error))
                fail($"parties[{i}].organisation", error);
            if (party.Datasets.IsDefaultOrEmpty)
                fail($"parties[{i}].datasets", "must name at least one dataset the party contributes");
            for (int j = 0; j < party.Datasets.Length; j++)
                if (!Formats.IsName(party.Datasets[j]))
                    fail($"parties[{i}].datasets[{j}]", $"'{party.Datasets[j]}' is not a dataset name (letters, digits, '-', '_', '.')");
            int duplicateDataset = Formats.FirstDuplicate(party.Datasets, d => d);
            if (duplicateDataset >= 0)
                fail($"parties[{i}].datasets[{duplicateDataset}]", $"'{party.Datasets[duplicateDataset]}' is listed twice");
            if (party.Sector is { } sector && !Formats.IsName(sector))
                fail($"parties[{i}].sector", $"'{sector}' is not a name (letters, digits, '-', '_', '.')");
            CheckNames($"parties[{i}].certifications", party.Certifications, fail);
            CheckNames($"parties[{i}].attestations", party.Attestations, fail);
        }
        int duplicate = Formats.FirstDuplicate(Parties, p => p.Organisation);
        if (duplicate >= 0)
            fail($"parties[{duplicate}].organisation", $"'{Parties[duplicate].Organisation}' is listed twice");
    }

    private static void CheckNames(string field, ImmutableArray<string> names, Action<string, string> fail)
    {
        for (int i = 0; i < names.Length; i++)
            if (!Formats.IsName(names[i]))
                fail($"{field}[{i}]", $"'{names[i]}' is not a name (letters, digits, '-', '_', '.')");
        int duplicate = Formats.FirstDuplicate(names, n => n);
        if (duplicate >= 0)
            fail($"{field}[{duplicate}]", $"'{names[duplicate]}' is listed twice");
    }

    private void CheckTransferMechanisms(Action<string, string> fail)
    {
        for (int i = 0; i < TransferMechanisms.Length; i++)
        {
            var m = TransferMechanisms[i];
            if (m is null)
                fail($"transferMechanisms[{i}]", "is required");
            if (!Formats.IsCountryCode(m!.From))
                fail($"transferMechanisms[{i}].from", $"'{m.From}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU')");
            if (!Formats.IsCountryCode(m.To))
                fail($"transferMechanisms[{i}].to", $"'{m.To}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'US')");
            if (!Formats.IsName(m.Mechanism))
                fail($"transferMechanisms[{i}].mechanism", $"'{m.Mechanism}' is not a name (letters, digits, '-', '_', '.')");
        }
        int duplicate = Formats.FirstDuplicate(TransferMechanisms, m => $"{m.From}>{m.To}:{m.Mechanism}");
        if (duplicate >= 0)
            fail($"transferMechanisms[{duplicate}]", $"{TransferMechanisms[duplicate].Mechanism} from {TransferMechanisms[duplicate].From} to {TransferMechanisms[duplicate].To} is listed twice");
    }

    private static void CheckCountries(string field, ImmutableArray<string> countries, Action<string, string> fail)
    {
        if (countries.IsDefaultOrEmpty)
            fail(field, "must name at least one country");
        for (int i = 0; i < countries.Length; i++)
            if (!Formats.IsCountryCode(countries[i]))
                fail($"{field}[{i}]", $"'{countries[i]}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU')");
        int duplicate = Formats.FirstDuplicate(countries, c => c);
        if (duplicate >= 0)
            fail($"{field}[{duplicate}]", $"'{countries[duplicate]}' is listed twice");
    }

    private void CheckProtection(Action<string, string> fail)
    {
        if (Protection is null)
            fail("protection", "is required");
        if (!Enum.IsDefined(Protection!.Scheme))
            fail("protection.scheme", $"must be one of {Formats.Names<ProtectionScheme>()}");
        if (!IsPositive(Protection.UpdateBound))
            fail("protection.updateBound", $"must be positive, not {Protection.UpdateBound}");
        // Updates in the clear are for rehearsals on synthetic data, never for a real agreement.
        if (Protection.Scheme == ProtectionScheme.PlaintextSimulation && !Simulation)
            fail("protection.scheme", "plaintext-simulation is allowed only in an agreement marked \"simulation\": true");
    }

    private static bool IsPositive(decimal value) => value > 0 && CanonicalNumber.IsExact(value);
}
