using FedCore.Governance.Agreements;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class ModelReleaseCheckTests
{
    private static ModelRelease Release(string destination = "HU", string? party = null) =>
        new("job-17", "heart-2025", Terms().Digest, destination, party);

    private static PlanViolation[] Violations(ModelRelease release, Agreement? agreement = null, DateTimeOffset? now = null) =>
        [.. Assert.Throws<ModelReleaseRefusedException>(() => ModelReleaseCheck.Check(release, agreement ?? Active(), Membership(), now ?? Now)).Violations];

    [Fact]
    public void A_destination_and_party_the_active_agreement_allows_pass()
    {
        ModelReleaseCheck.Check(Release("US"), Active(), Membership(), Now);
        ModelReleaseCheck.Check(Release("HU", "HU/budapest"), Active(), Membership(), Now);
    }

    [Fact]
    public void A_destination_outside_finalModelDestinations_is_refused_naming_the_term()
    {
        var e = Assert.Throws<ModelReleaseRefusedException>(() => ModelReleaseCheck.Check(Release("FR"), Active(), Membership(), Now));
        Assert.Equal("finalModelDestinations", Assert.Single(e.Violations).Term);
        Assert.Contains("finalModelDestinations: the final model of job 'job-17' may go to CH, HU, US, not to 'FR'", e.Message);
    }

    [Fact]
    public void A_non_party_other_terms_and_an_agreement_not_in_force_are_refused()
    {
        Assert.Contains(Violations(Release("CH", "AT/vienna")), v => v.Term == "parties" && v.Problem.Contains("'AT/vienna' is not a party"));
        Assert.Contains(Violations(Release() with { TermsDigest = new string('0', 64) }), v => v.Term == "terms");
        Assert.Contains(Violations(Release(), Change(Active(), StatusChangeKind.Suspend, Zurich)), v => v.Term == "state" && v.Problem.Contains("suspended"));
        Assert.Contains(Violations(Release(), Change(Active(), StatusChangeKind.Terminate, Zurich)), v => v.Term == "state" && v.Problem.Contains("terminated"));
        Assert.Contains(Violations(Release(), now: T0.AddDays(400)), v => v.Term == "validUntil");
        Assert.Contains(Violations(Release(), WithSignature(Active(), Cleveland.Id, Budapest.Key)), v => v.Term == "signatures");
    }
}
