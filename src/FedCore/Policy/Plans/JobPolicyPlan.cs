using System.Collections.Immutable;
using FedCore.Governance.Agreements;
using FedCore.Governance.Canonical;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;
using FedCore.Learning.DpSgd;
using FedCore.Privacy;
using FedCore.Privacy.Accounting;
using FedCore.Privacy.Budget;

namespace FedCore.Policy.Plans;

/// <summary>What a job asks for, as far as the policies read it (the job's coordinator and each participant know this).</summary>
/// <param name="Round">The model round about to run; null before the job starts.</param>
/// <param name="Recurring">More than one round. A participant, which is not told the job's length, takes every job as recurring.</param>
/// <param name="RoundsAhead">Rounds the decision covers: all of them before the job starts, one before a round.</param>
/// <param name="Strategy">The server strategy; null where it is not known.</param>
public sealed record JobPolicyFacts(
    string JobId,
    int? Round,
    bool Recurring,
    int RoundsAhead,
    ModelKind ModelClass,
    string? Strategy,
    ProtectionScheme Scheme,
    string AggregatorCountry,
    ImmutableArray<PlannedParticipant> Participants,
    double TrainFraction,
    int BatchSize,
    int Epochs,
    DpSgdParameters? Privacy);

/// <summary>
/// The policy plan of a real job: its participants with their countries (from the verified membership), what each party
/// states of itself in the signed agreement (sector, certifications, attestations), their datasets as the signed catalog
/// describes them, the agreement's terms and transfer mechanisms, and the ε the job's DP-SGD would spend. Facts no one
/// here knows stay null, so a rule that needs them is undetermined and denies (policies/README.md, "Closed world").
/// </summary>
public static class JobPolicyPlan
{
    /// <param name="epsilonSpent">ε each participant's dataset has spent, by organisation, as its ledger reports it; a missing one is unknown.</param>
    /// <exception cref="ArgumentException">A participant is not a member, or its dataset is not in the catalog.</exception>
    public static PolicyPlan For(JobPolicyFacts job, AgreementTerms terms, VerifiedMembership membership, DatasetCatalog catalog,
        IReadOnlyDictionary<string, double> epsilonSpent, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(epsilonSpent);

        var entries = job.Participants.Select(p => catalog.Find(p.Organisation, p.Dataset)
            ?? throw new ArgumentException($"Dataset '{p.Dataset}' of {p.Organisation} is not in the federation's catalog.", nameof(job))).ToList();
        string CountryOf(string organisation) => membership.Find(organisation)?.Country
            ?? throw new ArgumentException($"{organisation} is not a member of the federation.", nameof(job));

        var participants = entries.Select(entry =>
        {
            var party = terms.Party(entry.Organisation);
            decimal? spent = epsilonSpent.TryGetValue(entry.Organisation, out var e) && !double.IsNaN(e) ? PlanNumber(e) : null;
            var dataset = new PlanDataset(entry.Name, [.. entry.Categories.Select(Formats.Name)], entry.RowCount, Formats.Name(entry.PrivacyUnit), entry.EpsilonCap, spent);
            return new PlanParticipant(entry.Organisation, CountryOf(entry.Organisation), party?.Sector,
                party?.Certifications ?? [], party?.Attestations ?? [], [dataset]);
        }).ToImmutableArray();

        // Who receives in a country: the parties located there (they hold the model); updates go to the job's
        // aggregator, which states nothing of itself, so rules about the recipient of updates are undetermined.
        // Parties that state the same of themselves are one recipient, named by all of them: the rules read the sector and
        // the certifications, and a plan of a hundred parties would otherwise rule on every pair.
        ImmutableArray<PlanRecipient> PartiesIn(string country)
        {
            var there = terms.Parties.Where(p => membership.Find(p.Organisation)?.Country == country)
                .GroupBy(p => (p.Sector, Certifications: string.Join(",", p.Certifications.Order(StringComparer.Ordinal))))
                .Select(g => new PlanRecipient(country, string.Join(", ", g.Select(p => p.Organisation).Order(StringComparer.Ordinal)), g.Key.Sector, g.First().Certifications))
                .ToImmutableArray();
            return there.IsEmpty ? [PlanRecipient.InCountry(country)] : there;
        }

        var dp = terms.DifferentialPrivacy;
        return new PolicyPlan(
            at,
            job.JobId,
            terms.Purpose,
            job.Round,
            job.Recurring,
            Formats.Name(job.ModelClass),
            job.Strategy,
            Math.Max(AgreementTerms.MinimumParticipants, terms.MinParticipants),
            participants,
            new PlanAgreement(terms.Id, terms.MinParticipants, dp?.EpsilonCap, dp?.Delta, terms.UpdateDestinations, terms.FinalModelDestinations,
                [.. terms.TransferMechanisms.Select(m => new PlanTransferMechanism(m.From, m.To, m.Mechanism, m.TransferImpactAssessment))], terms.Simulation),
            job.Scheme == ProtectionScheme.Ckks ? PlanProtection.Ckks : PlanProtection.PlaintextSimulation,
            job.Privacy is { } p
                ? new PlanDifferentialPrivacy(true, PlanNumber(PlannedEpsilon(job, entries, dp?.Delta)), Decimal(p.Delta), Decimal(p.NoiseMultiplier), Decimal(p.ClippingNorm))
                : null,
            [new PlanRecipient(job.AggregatorCountry, null, null, [])],
            // Every round's global model is opened by the aggregator and goes to every participant, and the final one where
            // the agreement lets it: the model reaches the aggregator's and each participant's country as well.
            [.. terms.FinalModelDestinations.Union(participants.Select(p => p.Country)).Append(job.AggregatorCountry).Distinct()
                .Order(StringComparer.Ordinal).SelectMany(c => PartiesIn(c))]);
    }

    /// <summary>A computed figure as a plan number: rounded to 10⁻⁶; one too large for a decimal (a vanishing σ) is the largest there is.</summary>
    private static decimal PlanNumber(double value) =>
        double.IsFinite(value) && Math.Abs(value) < 1e15 ? (decimal)Math.Round(value, 6) : value < 0 ? decimal.MinValue : decimal.MaxValue;

    /// <summary>A job's setting as a plan number, as given; one beyond a decimal's range is the largest there is.</summary>
    private static decimal Decimal(double value) =>
        double.IsFinite(value) && Math.Abs(value) < 1e28 ? (decimal)value : value < 0 ? decimal.MinValue : decimal.MaxValue;

    /// <summary>
    /// The most ε the job's next <see cref="JobPolicyFacts.RoundsAhead"/> rounds spend on any one dataset: DP-SGD's schedule
    /// over its training rows (its catalog row count times the train fraction), at the δ its ledger holds it to
    /// (<see cref="PrivacyCap.DeltaFor"/>). The ledgers charge the exact figure from the rows each participant really has.
    /// </summary>
    public static double PlannedEpsilon(JobPolicyFacts job, IEnumerable<DatasetEntry> datasets, decimal? agreementDelta)
    {
        var privacy = job.Privacy ?? throw new ArgumentException("The job trains without differential privacy.", nameof(job));
        return datasets.Max(d =>
        {
            int rows = (int)Math.Clamp(Math.Floor(d.RowCount * job.TrainFraction), 1, int.MaxValue);
            var schedule = DpSgdSchedule.For(rows, job.BatchSize, job.Epochs);
            return SampledGaussian.Epsilon(schedule.SamplingRate, privacy.NoiseMultiplier, (long)schedule.Steps * job.RoundsAhead,
                PrivacyCap.DeltaFor(privacy.Delta, agreementDelta, d.RowCount)).Epsilon;
        });
    }
}
