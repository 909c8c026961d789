using FedCore.Privacy.Accounting;
using FedCore.Privacy.Budget;

namespace FedCore.Tests.Privacy.Budget;

public sealed class PrivacyLedgerTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static PrivacyCharge Round(int round, double q = 0.05, double sigma = 1.1, int steps = 100, string job = "CH/job") =>
        new(job, round, q, sigma, steps, At);

    private static PrivacyCap Cap(double epsilon) => new(epsilon, 1e-5, $"test cap {epsilon}");

    [Fact]
    public void Rounds_compose_as_the_accountant_composes_their_steps()
    {
        var ledger = PrivacyLedger.Empty("heart").Reserve(Round(1), Cap(10)).Reserve(Round(2), Cap(10)).Reserve(Round(3, q: 0.1, sigma: 2, steps: 50), Cap(10));
        var expected = SampledGaussian.Curve(0.05, 1.1, 200) + SampledGaussian.Curve(0.1, 2, 50);
        Assert.Equal(expected.Epsilon(1e-5).Epsilon, ledger.SpentAt(1e-5).Epsilon, 12);
        Assert.Equal(3, ledger.Charges.Length);
    }

    [Fact]
    public void A_round_that_would_pass_the_cap_is_refused_with_its_figures_and_spends_nothing()
    {
        double one = SampledGaussian.Epsilon(0.05, 1.1, 100, 1e-5).Epsilon;
        double two = SampledGaussian.Epsilon(0.05, 1.1, 200, 1e-5).Epsilon;
        var cap = Cap((one + two) / 2);
        var ledger = PrivacyLedger.Empty("heart").Reserve(Round(1), cap);

        var refused = Assert.Throws<PrivacyBudgetExceededException>(() => ledger.Reserve(Round(2), cap));
        Assert.Contains("Dataset 'heart': round 2 of job CH/job would bring its ε to", refused.Message);
        Assert.Contains("100 steps at q = 0.05, σ = 1.1", refused.Message);
        Assert.Contains($"past its cap: test cap {cap.Epsilon}", refused.Message);
        Assert.Single(ledger.Charges);
        Assert.Equal(one, ledger.SpentAt(1e-5).Epsilon, 12);
    }

    [Fact]
    public void The_cap_is_the_lower_of_the_datasets_and_the_agreements_and_says_which()
    {
        Assert.Equal(2, PrivacyCap.Lower("heart", 10m, "a-1", 2m, 1e-5).Epsilon);
        Assert.Contains("agreement 'a-1' caps ε at 2 (the dataset's own cap is 10)", PrivacyCap.Lower("heart", 10m, "a-1", 2m, 1e-5).Source);
        Assert.Contains("dataset 'heart' caps ε at 3 (agreement 'a-1' allows 5)", PrivacyCap.Lower("heart", 3m, "a-1", 5m, 1e-5).Source);
        Assert.Equal(3, PrivacyCap.Lower("heart", 3m, "a-1", null, 1e-5).Epsilon);
        Assert.Equal(double.PositiveInfinity, PrivacyCap.Lower("heart", null, "a-1", null, 1e-5).Epsilon);
    }

    [Fact]
    public void A_round_without_dp_makes_the_spent_epsilon_unbounded_and_the_ledger_survives_storage()
    {
        var ledger = PrivacyLedger.Empty("heart").Reserve(Round(1), Cap(10)).RecordUnprotected(new UnprotectedRound("CH/plain", 1, At));
        Assert.Equal(double.PositiveInfinity, ledger.SpentAt(1e-5).Epsilon);

        var read = PrivacyLedgerJson.Read("heart", PrivacyLedgerJson.Write(ledger));
        Assert.Equal(ledger.Charges.ToArray(), read.Charges.ToArray());
        Assert.Equal(ledger.Unprotected.ToArray(), read.Unprotected.ToArray());
        Assert.Equal(ledger.Spent.Values, read.Spent.Values);
        Assert.Contains("privacy ledger of dataset 'heart' cannot be read", Assert.Throws<FormatException>(() => PrivacyLedgerJson.Read("heart", "{\"charges\":[{\"samplingRate\":7}]")).Message);
    }

    [Fact]
    public void A_job_stating_a_large_delta_is_held_at_the_caps_delta_not_its_own()
    {
        // The attack (security review of the DP work): ε falls as δ grows, so a job stating δ = 0.5 fitted seven rounds of
        // σ = 0.7 under a cap of 10 (ε ≈ 24 at δ = 10⁻⁵). The cap's δ is never above 1/(10·n), nor the agreement's.
        double delta = PrivacyCap.DeltaFor(0.5, null, 200);
        Assert.Equal(1.0 / 2000, delta);
        Assert.Equal(1e-5, PrivacyCap.DeltaFor(0.5, 0.00001m, 200));
        Assert.Equal(1e-7, PrivacyCap.DeltaFor(1e-7, 0.00001m, 200));

        var cap = new PrivacyCap(10, delta, "dataset 'heart' caps ε at 10");
        var ledger = PrivacyLedger.Empty("heart");
        int admitted = 0;
        for (int round = 1; round <= 7; round++)
        {
            try
            {
                ledger = ledger.Reserve(Round(round, q: 1, sigma: 0.7, steps: 1), cap);
                admitted++;
            }
            catch (PrivacyBudgetExceededException)
            {
                break;
            }
        }
        Assert.Equal(2, admitted);
        Assert.True(ledger.SpentAt(delta).Epsilon <= 10);
    }
}
