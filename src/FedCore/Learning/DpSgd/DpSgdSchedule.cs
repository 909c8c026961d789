namespace FedCore.Learning.DpSgd;

/// <summary>
/// The steps one DP-SGD training takes over <c>rows</c> rows: sampling rate q = batch size / rows (at most 1) and
/// ⌈rows / batch size⌉ steps per epoch, so an epoch visits every row once in expectation. The trainer runs exactly
/// these steps and the privacy ledger charges exactly these, so what is spent is known before a row is read.
/// </summary>
/// <param name="SamplingRate">q: each row's probability of being in a step's sample.</param>
/// <param name="Steps">Noisy steps over all epochs.</param>
/// <param name="ExpectedBatchSize">q · rows: the divisor of each step's noisy gradient sum.</param>
public sealed record DpSgdSchedule(double SamplingRate, int Steps, double ExpectedBatchSize)
{
    public static DpSgdSchedule For(int rows, int batchSize, int epochs)
    {
        if (rows < 1)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "DP-SGD needs at least one row.");
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Epochs must be at least 1.");
        double q = Math.Min(1.0, (double)batchSize / rows);
        long steps = (long)epochs * ((rows + batchSize - 1) / batchSize);
        if (steps > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"{epochs} epochs of {rows} rows are more steps than one training can take.");
        return new DpSgdSchedule(q, (int)steps, q * rows);
    }

    public int StepsPerEpoch(int epochs) => Steps / epochs;
}
