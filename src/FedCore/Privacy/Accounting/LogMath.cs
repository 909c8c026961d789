namespace FedCore.Privacy.Accounting;

/// <summary>
/// Arithmetic on numbers held as their logarithms, and the special functions the accountant needs. .NET has no erfc, and
/// the accountant's terms span hundreds of orders of magnitude, so everything here stays in log space.
/// </summary>
internal static class LogMath
{
    /// <summary>log(e^a + e^b); −∞ stands for 0.</summary>
    public static double Add(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
            return b;
        if (double.IsNegativeInfinity(b))
            return a;
        var (low, high) = a < b ? (a, b) : (b, a);
        return high + Log1p(Math.Exp(low - high));
    }

    /// <summary>log(e^a − e^b) for a ≥ b; the accountant's partial sums never go negative, so a negative one is a bug.</summary>
    public static double Subtract(double a, double b)
    {
        if (double.IsNegativeInfinity(b))
            return a;
        if (a == b)
            return double.NegativeInfinity;
        if (a < b)
            throw new InvalidOperationException($"log-space subtraction would go negative (log {a} − log {b})");
        return a + Log1p(-Math.Exp(b - a));
    }

    /// <summary>log(1 + x), accurate for small x (Goldberg's correction).</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>e^x − 1, accurate for small x (Kahan's correction).</summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1)
            return x;
        double um1 = u - 1;
        return um1 == -1 ? -1 : um1 * x / Math.Log(u);
    }

    /// <summary>log(erfc(x)), finite far into the tail where erfc(x) itself underflows (x ≳ 27).</summary>
    public static double LogErfc(double x)
    {
        if (double.IsNaN(x))
            return double.NaN;
        if (x < 0)
            // erfc(x) = 2 − erfc(−x) lies in (1, 2]: no underflow on this side.
            return Math.Log(2 - Math.Exp(LogErfc(-x)));
        if (x < SeriesLimit)
            return Log1p(-Erf(x));
        return LogErfcTail(x);
    }

    // Below this the erf series (positive terms only) is exact to a few ulps and erfc = 1 − erf keeps ~11 digits;
    // above it the continued fraction converges in a few dozen terms.
    private const double SeriesLimit = 3;

    /// <summary>erf(x) for 0 ≤ x: (2/√π) e^{−x²} Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), a series of positive terms.</summary>
    private static double Erf(double x)
    {
        double term = x, sum = x;
        for (int n = 0; term > 1e-17 * sum; n++)
        {
            term *= 2 * x * x / (2 * n + 3);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    /// <summary>
    /// log erfc(x) for large x from erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), the continued fraction
    /// evaluated forwards by the modified Lentz method.
    /// </summary>
    private static double LogErfcTail(double x)
    {
        const double Tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 10_000; k++)
        {
            double a = k / 2.0;
            d = x + a * d;
            d = d == 0 ? Tiny : 1 / d;
            c = x + a / c;
            if (c == 0)
                c = Tiny;
            double step = c * d;
            f *= step;
            if (Math.Abs(step - 1) < 1e-16)
                break;
        }
        return -x * x - 0.5 * Math.Log(Math.PI) - Math.Log(f);
    }
}
