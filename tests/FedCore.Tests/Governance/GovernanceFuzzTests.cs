using System.Text;
using FedCore.Aggregation.Integrity;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Membership;
using Xunit.Abstractions;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

/// <summary>
/// Mutated files from valid seeds (see <see cref="JsonMutator"/>), 100 000 in all with a fixed seed: each must parse (and
/// then verify, or be refused with the governance refusal for its kind) or be refused with
/// <see cref="GovernanceFormatException"/>. Any other exception, or an input that takes more than two seconds (a hang,
/// on a busy machine), fails. A file that parses also writes back to a stable canonical form. The two readers are
/// in separate classes so that xunit runs them side by side.
/// </summary>
internal static class GovernanceFuzz
{
    public const int RandomSeed = 20250301;

    /// <summary>Feeds <paramref name="count"/> mutants of the seed to <paramref name="read"/> and tallies the outcomes.</summary>
    public static Dictionary<string, int> Run(ITestOutputHelper output, string name, byte[] seed, int count, Func<byte[], string> read)
    {
        var tokens = JsonMutator.Tokenize(Encoding.UTF8.GetString(seed));
        JsonMutator? mutator = null;
        return FedCore.Tests.Fuzzing.FuzzRunner.Run<GovernanceFormatException>(output, name, count, RandomSeed,
            random => (mutator ??= new JsonMutator(random)).Mutate(tokens), read);
    }
}

public sealed class MembershipFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void The_membership_reader_refuses_40000_mutated_files_cleanly()
    {
        // Three records: joins, then a rotation, a removal and a join in one record.
        using var newKey = ParticipantSigningKey.Generate();
        var first = Chain()[0];
        var second = MembershipChain.Append([first], T0.AddDays(1),
            [SignedOrganisationEntry.Rotate(Zurich.Entry(2, newKey), newKey, Zurich.Key), Cleveland.Signed()],
            [SignedRemoval.Create(LongBeach.Entry(), LongBeach.Key)], Operator);
        var seed = MembershipJson.Write([first, second]);

        var outcomes = GovernanceFuzz.Run(output, "membership", seed, 40_000, input =>
        {
            var records = MembershipJson.Parse(input, "fuzz.json");
            var written = MembershipJson.Write(records);
            Assert.Equal(written, MembershipJson.Write(MembershipJson.Parse(written, "rewritten.json")));
            try
            {
                MembershipChain.Verify(Operator.PublicKey, records);
                return "verified";
            }
            catch (MembershipException)
            {
                return "refused by verification";
            }
        });
        Assert.True(outcomes["verified"] > 0, "no mutant verified: the seed or the harness is wrong");
        Assert.True(outcomes["refused by verification"] > 0, "no mutant reached verification");
    }
}

public sealed class AgreementFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void The_agreement_reader_refuses_60000_mutated_files_cleanly()
    {
        var agreement = Change(Change(Active(), StatusChangeKind.Suspend, Zurich), StatusChangeKind.Resume, Zurich);
        var references = new AgreementReferences(Membership(), Catalog());
        var outcomes = GovernanceFuzz.Run(output, "agreement", AgreementJson.Write(agreement), 45_000, input =>
        {
            var read = AgreementJson.ParseAgreement(input, "fuzz.json", references);
            var written = AgreementJson.Write(read);
            Assert.Equal(written, AgreementJson.Write(AgreementJson.ParseAgreement(written, "rewritten.json", references)));
            try
            {
                JobPlanCheck.Check(Plan(), read, Membership(), Now);
                return "admitted the plan";
            }
            catch (JobPlanRefusedException)
            {
                return "refused the plan";
            }
        });
        Assert.True(outcomes["admitted the plan"] > 0, "no mutant was admitted: the seed or the harness is wrong");
        Assert.True(outcomes["refused the plan"] > 0, "no mutant reached the plan check");

        GovernanceFuzz.Run(output, "terms", AgreementJson.Write(Terms()), 15_000, input =>
        {
            var terms = AgreementJson.ParseTerms(input, "fuzz.json", references with { Now = Now });
            Assert.Equal(AgreementJson.Write(terms), AgreementJson.Write(AgreementJson.ParseTerms(AgreementJson.Write(terms), "rewritten.json", references)));
            return "parsed";
        });
    }
}
