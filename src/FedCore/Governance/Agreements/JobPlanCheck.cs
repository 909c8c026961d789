using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;
using FedCore.Privacy;

namespace FedCore.Governance.Agreements;

/// <summary>
/// The check a participant runs before it takes part in a job: the plan must be allowed by an agreement that is active
/// now, whose every party signed with the key its own verified membership holds. The coordinator is not trusted, so
/// nothing it claims beyond the plan is believed.
/// </summary>
public static class JobPlanCheck
{
    /// <summary>
    /// Returns the terms to keep for the job, or refuses with every violation: the agreement is not the plan's, or not
    /// active (named state); a party has not signed, is not a member, or its signature or a status change does not
    /// verify; a participant is not a party, listed twice, or contributes a dataset the terms do not cover; fewer
    /// participants than minParticipants (never fewer than 3); this participant is not among them; the protection
    /// scheme or bound differs; plaintext-simulation outside a simulation agreement; a model class not allowed; an
    /// aggregator country not among updateDestinations; a participant in a country not among finalModelDestinations (it
    /// receives every round's model); training without DP-SGD, or with a larger clipping norm, a smaller
    /// noise multiplier or a larger δ than the agreement's differentialPrivacy terms allow; a server strategy (with its
    /// settings) or a local learning rate the agreement's training terms do not allow; now outside [validFrom, validUntil).
    /// </summary>
    /// <exception cref="JobPlanRefusedException">The plan breaks the agreement; <see cref="JobPlanRefusedException.Violations"/> lists how.</exception>
    public static PinnedTerms Check(JobPlan plan, Agreement agreement, VerifiedMembership membership, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(agreement);
        ArgumentNullException.ThrowIfNull(membership);
        var terms = agreement.Terms;
        var violations = ImmutableArray.CreateBuilder<PlanViolation>();
        void Violation(string term, string problem) => violations.Add(new PlanViolation(term, problem));

        if (plan.AgreementId != agreement.Id)
            Violation("id", $"the plan cites agreement '{plan.AgreementId}', but was checked against '{agreement.Id}'");
        if (agreement.RecordedState != AgreementState.Active)
            Violation("state", $"the agreement is {Formats.Name(agreement.RecordedState)}, not active");
        foreach (var (term, problem) in agreement.Problems(membership))
            Violation(term, problem);

        var participants = plan.Participants.IsDefault ? [] : plan.Participants;
        foreach (var participant in participants)
        {
            string who = participant.Organisation == plan.Self ? $"'{participant.Organisation}' (this participant)" : $"'{participant.Organisation}'";
            var party = terms.Party(participant.Organisation);
            if (party is null)
                Violation("parties", $"{who} is not a party to the agreement");
            else if (!party.Datasets.Contains(participant.Dataset))
                Violation("parties", $"{who} would contribute '{participant.Dataset}', which the agreement does not cover (it covers {string.Join(", ", party.Datasets)})");
        }
        int duplicate = Formats.FirstDuplicate(participants, p => p.Organisation);
        if (duplicate >= 0)
            Violation("plan.participants", $"'{participants[duplicate].Organisation}' is listed twice");
        int distinct = participants.Select(p => p.Organisation).Distinct().Count();
        int required = Math.Max(AgreementTerms.MinimumParticipants, terms.MinParticipants);
        if (distinct < required)
            Violation("minParticipants", $"the plan has {distinct} participants; the agreement requires at least {required}");
        // Every round's global model reaches every participant, and the aggregator, which opens it: each one's country must
        // be a place the model may go.
        if (!terms.FinalModelDestinations.Contains(plan.AggregatorCountry))
            Violation("finalModelDestinations", $"the aggregator in {plan.AggregatorCountry} opens every round's model, and the agreement's finalModelDestinations ({string.Join(", ", terms.FinalModelDestinations)}) do not include it");
        foreach (var participant in participants)
            if (membership.Find(participant.Organisation)?.Country is { } country && !terms.FinalModelDestinations.Contains(country))
                Violation("finalModelDestinations", $"every round's model reaches '{participant.Organisation}' in {country}, which the agreement's finalModelDestinations ({string.Join(", ", terms.FinalModelDestinations)}) do not include");
        var self = participants.FirstOrDefault(p => p.Organisation == plan.Self);
        if (self is null)
            Violation("plan.self", $"this participant, '{plan.Self}', is not among the plan's participants");

        if (plan.Scheme != terms.Protection.Scheme)
            Violation("protection.scheme", $"the plan uses {Formats.Name(plan.Scheme)}; the agreement requires {Formats.Name(terms.Protection.Scheme)}");
        if (plan.UpdateBound != (double)terms.Protection.UpdateBound)
            Violation("protection.updateBound", $"the plan uses the bound {plan.UpdateBound}; the agreement requires {CanonicalNumber.Format(terms.Protection.UpdateBound)}");
        if (plan.Scheme == ProtectionScheme.PlaintextSimulation && !terms.Simulation)
            Violation("simulation", "updates in plaintext are allowed only under an agreement marked for simulation");
        if (!terms.ModelClasses.Contains(plan.ModelClass))
            Violation("modelClasses", $"the plan trains a {Formats.Name(plan.ModelClass)} model; the agreement allows {string.Join(", ", terms.ModelClasses.Select(Formats.Name))}");
        if (!terms.UpdateDestinations.Contains(plan.AggregatorCountry))
            Violation("updateDestinations", $"updates would go to an aggregator in '{plan.AggregatorCountry}'; the agreement allows {string.Join(", ", terms.UpdateDestinations)}");
        CheckPrivacy(plan.Privacy, terms.DifferentialPrivacy, Violation);
        CheckTraining(plan.Training, terms.Training, Violation);
        if (now < terms.ValidFrom)
            Violation("validFrom", $"the agreement is not valid before {Formats.Time(terms.ValidFrom)}");
        if (now >= terms.ValidUntil)
            Violation("validUntil", $"the agreement expired at {Formats.Time(terms.ValidUntil)}");

        if (violations.Count > 0)
            throw new JobPlanRefusedException(plan.JobId, plan.AgreementId, violations.ToImmutable());
        return new PinnedTerms(plan.JobId, agreement.Id, agreement.TermsDigest, membership.Pin, plan.Self, self!.Dataset,
            [.. participants.OrderBy(p => p.Organisation, StringComparer.Ordinal)], plan.Scheme, plan.UpdateBound, plan.ModelClass,
            plan.AggregatorCountry, terms.FinalModelDestinations, terms.DifferentialPrivacy, terms.ValidUntil);
    }

    /// <summary>Terms that fix the training bound the job's: one of their strategies with every setting, a local learning rate at least their floor.</summary>
    private static void CheckTraining(TrainingPlan? plan, TrainingTerms? terms, Action<string, string> violation)
    {
        if (terms is null)
            return;
        if (plan is null)
        {
            violation("training", "the agreement bounds how a job trains; the plan does not say how it trains");
            return;
        }
        var s = plan.Strategy;
        if (!terms.Strategies.Any(t => t.ToOptions() with { Name = t.Name.ToLowerInvariant() } == s with { Name = s.Name.ToLowerInvariant() }))
            violation("training.strategies", $"the plan's server strategy is {s.Name} (server learning rate {s.ServerLearningRate}, β₁ {s.Beta1}, β₂ {s.Beta2}, τ {s.Tau}); " +
                $"the agreement allows {string.Join("; ", terms.Strategies.Select(t => $"{t.Name} ({CanonicalNumber.Format(t.ServerLearningRate)}, {CanonicalNumber.Format(t.Beta1)}, {CanonicalNumber.Format(t.Beta2)}, {CanonicalNumber.Format(t.Tau)})"))}");
        if (!(plan.LearningRate >= (double)terms.MinLearningRate))
            violation("training.minLearningRate", $"the plan's local learning rate is {plan.LearningRate}; the agreement requires at least {CanonicalNumber.Format(terms.MinLearningRate)}");
    }

    /// <summary>Terms that ask for DP bound the job's; a job may use DP where the terms do not ask for it.</summary>
    private static void CheckPrivacy(DpSgdParameters? plan, DifferentialPrivacyTerms? terms, Action<string, string> violation)
    {
        if (plan?.Problem() is { } problem)
            violation("plan.privacy", problem);
        if (terms is null)
            return;
        if (plan is null)
        {
            violation("differentialPrivacy", "the agreement requires training with differential privacy (DP-SGD); the plan trains without it");
            return;
        }
        if (plan.ClippingNorm > (double)terms.MaxClippingNorm)
            violation("differentialPrivacy.maxClippingNorm", $"the plan clips at {plan.ClippingNorm}; the agreement allows at most {CanonicalNumber.Format(terms.MaxClippingNorm)}");
        if (plan.NoiseMultiplier < (double)terms.MinNoiseMultiplier)
            violation("differentialPrivacy.minNoiseMultiplier", $"the plan's noise multiplier is {plan.NoiseMultiplier}; the agreement requires at least {CanonicalNumber.Format(terms.MinNoiseMultiplier)}");
        if (plan.Delta > (double)terms.Delta)
            violation("differentialPrivacy.delta", $"the plan states ε at δ = {plan.Delta}; the agreement allows at most {CanonicalNumber.Format(terms.Delta)}");
    }
}
