using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
    // Twiddles of the FFT stage that combines blocks of 2h: e^(2πi j/(2h)) for j < h, stored at [h, 2h).
    private readonly double[] _stageRe, _stageIm;
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
        _stageRe = new double[Math.Max(2, _slots)];
        _stageIm = new double[Math.Max(2, _slots)];
        for (int half = 1; half < _slots; half <<= 1)
            for (int j = 0; j < half; j++)
                (_stageIm[half + j], _stageRe[half + j]) = Math.SinCos(Math.PI * j / half);
        _bitReversal = new int[_slots];
        for (int i = 0; i < _slots; i++)
            _bitReversal[i] = NegacyclicNtt.ReverseBits(i, _logSlots);
    }

    public int RingDimension { get; }

    /// <summary>
    /// Coefficients (mod q) of round(Δ·m) where m carries <paramref name="values"/> (at most N; missing ones are 0).
    /// Every value must be finite and small enough that √2·|value|·Δ &lt; q/2 (checked).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Encode(ReadOnlySpan<double> values, double scale, Modulus modulus, Span<ulong> coefficients)
    {
        if (values.Length > RingDimension)
            throw new ArgumentException($"At most {RingDimension} values fit in one plaintext; got {values.Length}.", nameof(values));
        if (coefficients.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients.", nameof(coefficients));
        // Every coefficient is at most √2·max|value|·Δ; it must stay below q/2 to be a centred residue.
        double largest = 0;
        foreach (double v in values)
            largest = Math.Max(largest, Math.Abs(v));
        if (!(largest * scale * Math.Sqrt(2) < modulus.Value / 2.0))
            throw new ArgumentOutOfRangeException(nameof(values), $"Values up to {largest} at scale {scale} do not fit below q/2.");
        double[] re = ArrayPool<double>.Shared.Rent(_slots), im = ArrayPool<double>.Shared.Rent(_slots);
        for (int t = 0; t < _slots; t++)
        {
            re[t] = 2 * t < values.Length ? values[2 * t] : 0.0;
            im[t] = 2 * t + 1 < values.Length ? values[2 * t + 1] : 0.0;
        }

        Fft(re, im, inverse: true);
        // y_k/(N/2) = (m_k + i·m_(k+N/2))·ω^k, so multiply by ω^(−k) and by Δ/(N/2).
        double factor = scale / _slots;
        int k = 0;
        if (Vector512.IsHardwareAccelerated && VectorArithmetic.Enabled)
        {
            Vector512<double> factor512 = Vector512.Create(factor);
            Vector512<long> q = Vector512.Create((long)modulus.Value);
            for (; k + 8 <= _slots; k += 8)
            {
                Vector512<double> a = Vector512.LoadUnsafe(ref re[k]), b = Vector512.LoadUnsafe(ref im[k]);
                Vector512<double> c = Vector512.LoadUnsafe(ref _twistRe[k]), d = Vector512.LoadUnsafe(ref _twistIm[k]);
                Vector512<long> low = Vector512.ConvertToInt64(Vector512.Round((a * c + b * d) * factor512));
                Vector512<long> high = Vector512.ConvertToInt64(Vector512.Round((b * c - a * d) * factor512));
                // |value| < q/2 by the scale rule, so a residue is the value plus q where negative.
                (low + (Vector512.ShiftRightArithmetic(low, 63) & q)).AsUInt64().CopyTo(coefficients.Slice(k, 8));
                (high + (Vector512.ShiftRightArithmetic(high, 63) & q)).AsUInt64().CopyTo(coefficients.Slice(k + _slots, 8));
            }
        }
        for (; k < _slots; k++)
        {
            double a = re[k], b = im[k], c = _twistRe[k], d = _twistIm[k];
            double mLow = (a * c + b * d) * factor;
            double mHigh = (b * c - a * d) * factor;
            coefficients[k] = modulus.FromSigned((long)Math.Round(mLow));
            coefficients[k + _slots] = modulus.FromSigned((long)Math.Round(mHigh));
        }
        // The slots held values derived from a plaintext (an update when encoding): the pool must not hand them on.
        ArrayPool<double>.Shared.Return(re, clearArray: true);
        ArrayPool<double>.Shared.Return(im, clearArray: true);
    }

    /// <summary>The first <paramref name="values"/>.Length real values carried by the coefficients (mod q), divided by Δ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Decode(ReadOnlySpan<ulong> coefficients, Modulus modulus, double scale, Span<double> values)
    {
        if (coefficients.Length != RingDimension)
            throw new ArgumentException($"Expected {RingDimension} coefficients.", nameof(coefficients));
        if (values.Length > RingDimension)
            throw new ArgumentException($"At most {RingDimension} values come out of one plaintext.", nameof(values));
        double[] re = ArrayPool<double>.Shared.Rent(_slots), im = ArrayPool<double>.Shared.Rent(_slots);
        int k = 0;
        if (Vector512.IsHardwareAccelerated && VectorArithmetic.Enabled)
        {
            Vector512<ulong> q = Vector512.Create(modulus.Value), half = Vector512.Create(modulus.Value >> 1);
            for (; k + 8 <= _slots; k += 8)
            {
                Vector512<ulong> low = Vector512.Create(coefficients.Slice(k, 8)), high = Vector512.Create(coefficients.Slice(k + _slots, 8));
                // Centred representatives: subtract q above q/2.
                Vector512<double> a = Vector512.ConvertToDouble((low - (Vector512.GreaterThan(low, half) & q)).AsInt64());
                Vector512<double> b = Vector512.ConvertToDouble((high - (Vector512.GreaterThan(high, half) & q)).AsInt64());
                Vector512<double> c = Vector512.LoadUnsafe(ref _twistRe[k]), d = Vector512.LoadUnsafe(ref _twistIm[k]);
                (a * c - b * d).StoreUnsafe(ref re[k]);
                (a * d + b * c).StoreUnsafe(ref im[k]);
            }
        }
        for (; k < _slots; k++)
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
        // The slots held values derived from a plaintext (an update when encoding): the pool must not hand them on.
        ArrayPool<double>.Shared.Return(re, clearArray: true);
        ArrayPool<double>.Shared.Return(im, clearArray: true);
    }

    /// <summary>In-place radix-2 DFT X_t = Σ_k x_k·e^(±2πi tk/n) of the first n entries, + for forward, − for inverse (unnormalised).</summary>
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
        for (int half = 1; half < n; half <<= 1)
        {
            for (int start = 0; start < n; start += 2 * half)
            {
                int j = 0;
                if (Vector512.IsHardwareAccelerated && VectorArithmetic.Enabled)
                {
                    Vector512<double> sign512 = Vector512.Create(sign);
                    for (; j + 8 <= half; j += 8)
                    {
                        Vector512<double> wr = Vector512.LoadUnsafe(ref _stageRe[half + j]);
                        Vector512<double> wi = sign512 * Vector512.LoadUnsafe(ref _stageIm[half + j]);
                        int p = start + j, q = p + half;
                        Vector512<double> pr = Vector512.LoadUnsafe(ref re[p]), pi = Vector512.LoadUnsafe(ref im[p]);
                        Vector512<double> qr = Vector512.LoadUnsafe(ref re[q]), qi = Vector512.LoadUnsafe(ref im[q]);
                        Vector512<double> xr = qr * wr - qi * wi;
                        Vector512<double> xi = qr * wi + qi * wr;
                        (pr - xr).StoreUnsafe(ref re[q]);
                        (pi - xi).StoreUnsafe(ref im[q]);
                        (pr + xr).StoreUnsafe(ref re[p]);
                        (pi + xi).StoreUnsafe(ref im[p]);
                    }
                }
                for (; j < half; j++)
                {
                    double wr = _stageRe[half + j], wi = sign * _stageIm[half + j];
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
