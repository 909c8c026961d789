using FedCore.Crypto.Ring;

namespace FedCore.Crypto.Ckks;

/// <summary>
/// Canonical-embedding encoder. A real polynomial m of degree &lt; N is identified with its values at the
/// N/2 roots ζ_t = ω^(4t+1) of X^N + 1 (ω = e^(iπ/N)); the other N/2 roots are their conjugates, where m takes
/// the conjugate values, so these N/2 complex slots determine m. N real inputs fill the slots as
/// z_t = v_(2t) + i·v_(2t+1).
///
/// Since ζ_t^(N/2) = i for every t, m(ζ_t) = Σ_(k&lt;N/2) (m_k + i·m_(k+N/2))·ω^k·(ω^4)^(tk): the slot vector is a
/// plain N/2-point DFT of the "folded and twisted" vector y_k = (m_k + i·m_(k+N/2))·ω^k. Encoding is its inverse.
/// This is the standard special FFT with the slots in the order t = 0, 1, … of the exponents 4t+1 rather than
/// the 5^j order SEAL and Lattigo use (the same set of roots); aggregation never rotates slots, so only the
/// round trip matters.
/// </summary>
internal sealed class CkksEncoder
{
    private readonly int _slots;
    private readonly int _logSlots;
    private readonly double[] _twistRe, _twistIm; // ω^k, k < N/2
    private readonly double[] _rootRe, _rootIm;   // e^(2πi j / (N/2)), j < N/4
    private readonly int[] _bitReversal;

    public CkksEncoder(int ringDimension)
    {
        NttPrimes.RequirePowerOfTwo(ringDimension);
        RingDimension = ringDimension;
        _slots = ringDimension / 2;
        _logSlots = System.Numerics.BitOperations.Log2((uint)_slots);
        _twistRe = new double[_slots];
        _twistIm = new double[_slots];
        for (int k = 0; k < _slots; k++)
            (_twistIm[k], _twistRe[k]) = Math.SinCos(Math.PI * k / ringDimension);
        int halfSlots = Math.Max(1, _slots / 2);
        _rootRe = new double[halfSlots];
        _rootIm = new double[halfSlots];
        for (int j = 0; j < halfSlots; j++)
            (_rootIm[j], _rootRe[j]) = Math.SinCos(2 * Math.PI * j / _slots);
        _bitReversal = new int[_slots];
        for (int i = 0; i < _slots; i++)
            _bitReversal[i] = NegacyclicNtt.ReverseBits(i, _logSlots);
    }

    public int RingDimension { get; }

    /// <summary>
    /// Coefficients (mod q) of round(Δ·m) where m carries <paramref name="values"/> (at most N; missing ones are 0).
    /// Every |value| must be finite; the caller checks it against its declared bound.
    /// </summary>
    public void Encode(ReadOnlySpan<double> values, double scale, Modulus modulus, Span<ulong> coefficients)
    {
        if (values.Length > RingDimension)
            throw new ArgumentException($"At most {RingDimension} values fit in one plaintext; got {values.Length}.", nameof(values));
        if (coefficients.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients.", nameof(coefficients));
        var re = new double[_slots];
        var im = new double[_slots];
        for (int t = 0; t < _slots; t++)
        {
            re[t] = 2 * t < values.Length ? values[2 * t] : 0.0;
            im[t] = 2 * t + 1 < values.Length ? values[2 * t + 1] : 0.0;
        }

        Fft(re, im, inverse: true);
        // y_k/(N/2) = (m_k + i·m_(k+N/2))·ω^k, so multiply by ω^(−k) and by Δ/(N/2).
        double factor = scale / _slots;
        for (int k = 0; k < _slots; k++)
        {
            double a = re[k], b = im[k], c = _twistRe[k], d = _twistIm[k];
            double mLow = (a * c + b * d) * factor;
            double mHigh = (b * c - a * d) * factor;
            coefficients[k] = modulus.FromSigned((long)Math.Round(mLow));
            coefficients[k + _slots] = modulus.FromSigned((long)Math.Round(mHigh));
        }
    }

    /// <summary>The first <paramref name="values"/>.Length real values carried by the coefficients (mod q), divided by Δ.</summary>
    public void Decode(ReadOnlySpan<ulong> coefficients, Modulus modulus, double scale, Span<double> values)
    {
        if (coefficients.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients.", nameof(coefficients));
        if (values.Length > RingDimension)
            throw new ArgumentException($"At most {RingDimension} values come out of one plaintext.", nameof(values));
        var re = new double[_slots];
        var im = new double[_slots];
        for (int k = 0; k < _slots; k++)
        {
            double a = modulus.ToCentered(coefficients[k]), b = modulus.ToCentered(coefficients[k + _slots]);
            double c = _twistRe[k], d = _twistIm[k];
            re[k] = a * c - b * d;
            im[k] = a * d + b * c;
        }

        Fft(re, im, inverse: false);
        double inverseScale = 1.0 / scale;
        for (int i = 0; i < values.Length; i++)
            values[i] = ((i & 1) == 0 ? re[i >> 1] : im[i >> 1]) * inverseScale;
    }

    /// <summary>In-place radix-2 DFT X_t = Σ_k x_k·e^(±2πi tk/n), + for forward, − for inverse (unnormalised).</summary>
    private void Fft(double[] re, double[] im, bool inverse)
    {
        int n = _slots;
        for (int i = 0; i < n; i++)
        {
            int r = _bitReversal[i];
            if (r > i)
            {
                (re[i], re[r]) = (re[r], re[i]);
                (im[i], im[r]) = (im[r], im[i]);
            }
        }
        double sign = inverse ? -1.0 : 1.0;
        for (int length = 2; length <= n; length <<= 1)
        {
            int half = length >> 1;
            int stride = n / length;
            for (int start = 0; start < n; start += length)
            {
                for (int j = 0; j < half; j++)
                {
                    double wr = _rootRe[j * stride], wi = sign * _rootIm[j * stride];
                    int p = start + j, q = p + half;
                    double xr = re[q] * wr - im[q] * wi;
                    double xi = re[q] * wi + im[q] * wr;
                    re[q] = re[p] - xr;
                    im[q] = im[p] - xi;
                    re[p] += xr;
                    im[p] += xi;
                }
            }
        }
    }
}
