namespace FedCore.Privacy.Budget;

/// <summary>
/// One round's DP-SGD training on a dataset, as its ledger charged it: <see cref="Steps"/> Poisson-sampled Gaussian steps
/// at sampling rate q and noise multiplier σ (FedCore.Learning.DpSgd.DpSgdSchedule gives both before training).
/// </summary>
public sealed record PrivacyCharge(string JobId, int Round, double SamplingRate, double NoiseMultiplier, int Steps, DateTimeOffset At);

/// <summary>A round trained without differential privacy: it spends an ε no accountant can bound, and the ledger says so.</summary>
public sealed record UnprotectedRound(string JobId, int Round, DateTimeOffset At);

/// <summary>
/// The ε a reservation is held to, at δ: the lower of the dataset's own cap and the agreement's, and which it is.
/// </summary>
public sealed record PrivacyCap(double Epsilon, double Delta, string Source)
{
    /// <summary>
    /// The δ a dataset's ε is held at: the smallest of the job's, the agreement's (where it has DP terms) and 1/(10·n) for a
    /// dataset of n rows (all its rows, as its catalog entry counts them, so the ledger, the participant's and the job's
    /// decisions agree on it). Never the job's alone: ε falls as δ grows, so a job stating a large δ would otherwise fit many
    /// times the cap under it (δ ≥ 1/n allows releasing a row outright).
    /// </summary>
    public static double DeltaFor(double jobDelta, decimal? agreementDelta, long rows) =>
        Math.Min(Math.Min(jobDelta, agreementDelta is { } a ? (double)a : 1.0), 1.0 / (10.0 * Math.Max(1, rows)));

    /// <summary>
    /// The lower of the dataset's cap (its catalog entry's) and, where the agreement has DP terms, the agreement's; with
    /// neither, no cap (the charges are still recorded).
    /// </summary>
    public static PrivacyCap Lower(string dataset, decimal? datasetCap, string agreementId, decimal? agreementCap, double delta) =>
        (datasetCap, agreementCap) switch
        {
            (null, null) => new(double.PositiveInfinity, delta, $"neither dataset '{dataset}' nor agreement '{agreementId}' caps ε"),
            ({ } d, { } a) when a < d => new((double)a, delta, $"agreement '{agreementId}' caps ε at {a} (the dataset's own cap is {d})"),
            (null, { } a) => new((double)a, delta, $"agreement '{agreementId}' caps ε at {a}"),
            ({ } d, var a) => new((double)d, delta, $"dataset '{dataset}' caps ε at {d}" + (a is { } b ? $" (agreement '{agreementId}' allows {b})" : "")),
        };
}

/// <summary>A round would take a dataset past its ε cap; nothing was spent.</summary>
public sealed class PrivacyBudgetExceededException(string message) : Exception(message);
