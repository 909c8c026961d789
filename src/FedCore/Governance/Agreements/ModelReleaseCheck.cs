using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Governance.Agreements;

/// <summary>
/// A global model of a job about to leave the job's store: exported to <see cref="Destination"/>, or used there by
/// <see cref="Party"/> (null for an export that names no organisation).
/// </summary>
/// <param name="TermsDigest">The digest of the terms the job ran under (its model's lineage).</param>
/// <param name="Destination">ISO 3166-1 alpha-2 code of the country the model goes to.</param>
public sealed record ModelRelease(string JobId, string AgreementId, string TermsDigest, string Destination, string? Party);

/// <summary>
/// The check before a job's model leaves it: the agreement the job ran under, with the same terms, must be active now and
/// verify against the membership, and allow the destination as a final-model destination (and, for a use by an
/// organisation, that organisation must be a party). Export and use are acts under the agreement, so an agreement
/// suspended, terminated or expired since the job allows neither.
/// </summary>
public static class ModelReleaseCheck
{
    /// <exception cref="ModelReleaseRefusedException">The release breaks the agreement; every violation is listed with its term.</exception>
    public static void Check(ModelRelease release, Agreement agreement, VerifiedMembership membership, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(agreement);
        ArgumentNullException.ThrowIfNull(membership);
        var terms = agreement.Terms;
        var violations = ImmutableArray.CreateBuilder<PlanViolation>();
        void Violation(string term, string problem) => violations.Add(new PlanViolation(term, problem));

        if (release.AgreementId != agreement.Id)
            Violation("id", $"the model was trained under agreement '{release.AgreementId}', but was checked against '{agreement.Id}'");
        else if (release.TermsDigest != agreement.TermsDigest)
            Violation("terms", $"the model was trained under terms {release.TermsDigest}; the agreement now has terms {agreement.TermsDigest}");
        if (agreement.RecordedState != AgreementState.Active)
            Violation("state", $"the agreement is {Formats.Name(agreement.RecordedState)}, not active");
        foreach (var (term, problem) in agreement.Problems(membership))
            Violation(term, problem);
        if (release.Party is { } party && terms.Party(party) is null)
            Violation("parties", $"'{party}' is not a party to the agreement");
        if (!terms.FinalModelDestinations.Contains(release.Destination))
            Violation("finalModelDestinations", DestinationRefusal(release.JobId, terms.FinalModelDestinations, release.Destination));
        if (now < terms.ValidFrom)
            Violation("validFrom", $"the agreement is not valid before {Formats.Time(terms.ValidFrom)}");
        if (now >= terms.ValidUntil)
            Violation("validUntil", $"the agreement expired at {Formats.Time(terms.ValidUntil)}");

        if (violations.Count > 0)
            throw new ModelReleaseRefusedException(release, violations.ToImmutable());
    }

    /// <summary>The refusal under <c>finalModelDestinations</c> (also <see cref="PinnedTerms.EnsureFinalModelDestination"/>'s).</summary>
    internal static string DestinationRefusal(string jobId, ImmutableArray<string> allowed, string country) =>
        $"the final model of job '{jobId}' may go to {string.Join(", ", allowed)}, not to '{country}'";
}

/// <summary>A model release refused, with every violation found.</summary>
public sealed class ModelReleaseRefusedException(ModelRelease release, ImmutableArray<PlanViolation> violations)
    : GovernanceException($"the model of job '{release.JobId}' may not go to '{release.Destination}'{(release.Party is { } party ? $" for '{party}'" : "")} " +
        $"under agreement '{release.AgreementId}': {string.Join("; ", violations)}")
{
    public ModelRelease Release { get; } = release;

    public ImmutableArray<PlanViolation> Violations { get; } = violations;
}
