using System.Collections.Immutable;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;
using FedCore.Learning;

namespace FedCore.Governance.Agreements;

/// <summary>
/// The terms a participant accepted a job under, kept for the job's lifetime: every later request of the job (a
/// round, a decryption, an export) is compared with these, never with what the coordinator says then.
/// </summary>
/// <param name="TermsDigest">Hex SHA-256 of the canonical agreement terms the plan was checked against.</param>
/// <param name="Membership">The membership record whose keys verified the agreement's signatures.</param>
/// <param name="Dataset">The participant's own dataset in this job.</param>
/// <param name="Participants">The job's participants, ordered by organisation.</param>
public sealed record PinnedTerms(
    string JobId,
    string AgreementId,
    string TermsDigest,
    MembershipPin Membership,
    string Self,
    string Dataset,
    ImmutableArray<PlannedParticipant> Participants,
    ProtectionScheme Scheme,
    double UpdateBound,
    ModelKind ModelClass,
    string AggregatorCountry,
    ImmutableArray<string> FinalModelDestinations,
    DifferentialPrivacyTerms? DifferentialPrivacy,
    DateTimeOffset ValidUntil)
{
    /// <summary>Refuses to let the final model go to a country the agreement's <c>finalModelDestinations</c> do not name.</summary>
    /// <exception cref="AgreementException">The destination is not allowed.</exception>
    public void EnsureFinalModelDestination(string country)
    {
        if (!FinalModelDestinations.Contains(country))
            throw new AgreementException(AgreementId, $"finalModelDestinations: {ModelReleaseCheck.DestinationRefusal(JobId, FinalModelDestinations, country)}");
    }
}
