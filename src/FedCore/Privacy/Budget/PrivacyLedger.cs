using System.Collections.Immutable;
using System.Globalization;
using FedCore.Privacy.Accounting;

namespace FedCore.Privacy.Budget;

/// <summary>
/// What one dataset has spent: every DP-SGD round charged to it, composed by the RDP accountant, and every round that
/// ran without DP. A round reserves its charge before it reads a row, and only if the composition stays within the cap;
/// a reservation is never refunded (a round that fails after training may already have released something, and a retry
/// trains again with fresh noise, so it is charged again). Immutable: the owner stores the new ledger, then trains.
/// </summary>
public sealed class PrivacyLedger
{
    private PrivacyLedger(string dataset, ImmutableArray<PrivacyCharge> charges, ImmutableArray<UnprotectedRound> unprotected, RdpCurve spent)
    {
        Dataset = dataset;
        Charges = charges;
        Unprotected = unprotected;
        Spent = spent;
    }

    public string Dataset { get; }

    public ImmutableArray<PrivacyCharge> Charges { get; }

    /// <summary>Rounds that trained on the dataset without DP: while there is one, no ε bounds what the dataset has released.</summary>
    public ImmutableArray<UnprotectedRound> Unprotected { get; }

    /// <summary>The RDP of all charges composed.</summary>
    public RdpCurve Spent { get; }

    public static PrivacyLedger Empty(string dataset) => new(dataset, [], [], RdpCurve.Zero());

    /// <summary>A ledger holding exactly these entries (as read back from storage); the curve is recomputed from the charges.</summary>
    public static PrivacyLedger Of(string dataset, IEnumerable<PrivacyCharge> charges, IEnumerable<UnprotectedRound> unprotected)
    {
        var all = charges.ToImmutableArray();
        return new(dataset, all, [.. unprotected], all.Aggregate(RdpCurve.Zero(), (curve, c) => curve + CurveOf(c)));
    }

    /// <summary>ε spent at <paramref name="delta"/> by the DP rounds (+∞ once an unprotected round is recorded).</summary>
    public PrivacySpent SpentAt(double delta) =>
        Unprotected.IsEmpty ? Spent.Epsilon(delta) : new PrivacySpent(double.PositiveInfinity, double.NaN);

    /// <summary>
    /// The ledger with <paramref name="charge"/> added, if the DP rounds' composition stays within <paramref name="cap"/>.
    /// Rounds without DP do not count against the cap: whether a dataset may be used without DP is for its agreement
    /// and the policies to decide (an agreement with DP terms refuses such a job), and <see cref="SpentAt"/> shows them.
    /// </summary>
    /// <exception cref="PrivacyBudgetExceededException">The round would spend past the cap; the message gives the figures.</exception>
    public PrivacyLedger Reserve(PrivacyCharge charge, PrivacyCap cap)
    {
        ArgumentNullException.ThrowIfNull(charge);
        ArgumentNullException.ThrowIfNull(cap);
        var round = CurveOf(charge);
        var after = Spent + round;
        var total = after.Epsilon(cap.Delta);
        if (!(total.Epsilon <= cap.Epsilon))
        {
            var before = Spent.Epsilon(cap.Delta).Epsilon;
            throw new PrivacyBudgetExceededException(
                $"Dataset '{Dataset}': round {charge.Round} of job {charge.JobId} would bring its ε to {Show(total.Epsilon)} at δ = {cap.Delta.ToString("G4", CultureInfo.InvariantCulture)} " +
                $"({Show(before)} spent over {Charges.Length} round(s), {Show(round.Epsilon(cap.Delta).Epsilon)} for this one alone: " +
                $"{charge.Steps} steps at q = {Show(charge.SamplingRate)}, σ = {Show(charge.NoiseMultiplier)}), past its cap: {cap.Source}. Nothing was spent.");
        }
        return new(Dataset, Charges.Add(charge), Unprotected, after);
    }

    public PrivacyLedger RecordUnprotected(UnprotectedRound round) => new(Dataset, Charges, Unprotected.Add(round), Spent);

    private static RdpCurve CurveOf(PrivacyCharge c) => SampledGaussian.Curve(c.SamplingRate, c.NoiseMultiplier, c.Steps);

    private static string Show(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
