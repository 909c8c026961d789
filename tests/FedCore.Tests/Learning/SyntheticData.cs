using FedCore.Data;

namespace FedCore.Tests.Learning;

/// <summary>Small generated problems whose answer is known, so a test can tell learning from noise.</summary>
internal static class SyntheticData
{
    /// <summary>Gaussian blobs, one per class, centred at well-separated random points; linearly separable in practice.</summary>
    public static TabularData Blobs(int rows, int features, int classes, int seed, double separation = 3)
    {
        var random = new Random(seed);
        // The centres depend only on the shape of the problem, so train and test sets drawn with different seeds agree.
        var centreRandom = new Random(features * 31 + classes);
        var centres = new double[classes][];
        for (int c = 0; c < classes; c++)
            centres[c] = [.. Enumerable.Range(0, features).Select(_ => (centreRandom.NextDouble() * 2 - 1) * separation)];

        var x = new float[rows * features];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            int label = i % classes;
            y[i] = label;
            for (int j = 0; j < features; j++)
                x[i * features + j] = (float)(centres[label][j] + Gaussian(random));
        }
        return new TabularData(x, y, Names(features));
    }

    /// <summary>y = w·x + b + small noise with fixed w and b.</summary>
    public static TabularData LinearTarget(int rows, int features, int seed, double noise = 0.05)
    {
        var random = new Random(seed);
        var x = new float[rows * features];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double target = 0.5;
            for (int j = 0; j < features; j++)
            {
                double value = random.NextDouble() * 2 - 1;
                x[i * features + j] = (float)value;
                target += (j % 3 - 1 + 0.25 * j) * value;
            }
            y[i] = (float)(target + noise * Gaussian(random));
        }
        return new TabularData(x, y, Names(features));
    }

    /// <summary>Two features uniform in [−1, 1]²; the label is 1 when they share a sign (XOR, not linearly separable).</summary>
    public static TabularData Xor(int rows, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * 2];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double a = random.NextDouble() * 2 - 1, b = random.NextDouble() * 2 - 1;
            x[2 * i] = (float)a;
            x[2 * i + 1] = (float)b;
            y[i] = a * b > 0 ? 1 : 0;
        }
        return new TabularData(x, y, Names(2));
    }

    /// <summary>
    /// Single-channel side×side images: class 0 a horizontal bar, class 1 a vertical bar, each at a random
    /// position with random extent, over Gaussian noise. Position varies, so a detector must be translation-tolerant.
    /// </summary>
    public static TabularData Bars(int rows, int side, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * side * side];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            int label = i % 2;
            y[i] = label;
            var image = x.AsSpan(i * side * side, side * side);
            for (int p = 0; p < image.Length; p++)
                image[p] = (float)(0.2 * Gaussian(random));
            int line = random.Next(side);
            int start = random.Next(side / 2);
            int length = side / 2 + random.Next(side / 2 - start + 1);
            for (int k = start; k < start + length && k < side; k++)
            {
                int row = label == 0 ? line : k, column = label == 0 ? k : line;
                image[row * side + column] += 1;
            }
        }
        return new TabularData(x, y, Names(side * side));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string[] Names(int count) => [.. Enumerable.Range(0, count).Select(j => $"x{j}")];
}
