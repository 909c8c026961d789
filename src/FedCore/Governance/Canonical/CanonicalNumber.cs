using System.Globalization;
using System.Text;

namespace FedCore.Governance.Canonical;

/// <summary>
/// Numbers in governance documents are exact decimals: JSON number text is read into a <see cref="decimal"/> only
/// when the conversion loses nothing (at most 28 significant digits, at most 28 decimal places, magnitude below
/// 10^28), so two texts read as the same value only when they denote the same number. The canonical form is
/// plain digits: no exponent, no leading zeros, no trailing fractional zeros, zero as <c>0</c>.
/// </summary>
internal static class CanonicalNumber
{
    public const int MaxDigits = 28;

    /// <summary>An exponent beyond this makes any non-zero mantissa unrepresentable; capping it keeps parsing linear.</summary>
    private const int ExponentCap = 100_000;

    /// <summary>Parses JSON number text exactly; false for text outside the JSON number grammar or outside the exact range.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out decimal value)
    {
        value = 0;
        int i = 0;
        bool negative = i < text.Length && text[i] == '-';
        if (negative)
            i++;
        int integerStart = i;
        if (i < text.Length && text[i] == '0')
            i++;
        else if (i < text.Length && text[i] is >= '1' and <= '9')
            while (i < text.Length && char.IsAsciiDigit(text[i]))
                i++;
        else
            return false;
        var integerDigits = text[integerStart..i];

        var fractionDigits = ReadOnlySpan<char>.Empty;
        if (i < text.Length && text[i] == '.')
        {
            int fractionStart = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
                i++;
            if (i == fractionStart)
                return false;
            fractionDigits = text[fractionStart..i];
        }

        int exponent = 0;
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            bool negativeExponent = i < text.Length && text[i] == '-';
            if (i < text.Length && text[i] is '+' or '-')
                i++;
            int exponentStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                exponent = Math.Min(ExponentCap, exponent * 10 + (text[i] - '0'));
                i++;
            }
            if (i == exponentStart)
                return false;
            if (negativeExponent)
                exponent = -exponent;
        }
        if (i != text.Length)
            return false;

        // value = digits × 10^power, with digits stripped of leading and trailing zeros.
        var digits = new StringBuilder(integerDigits.Length + fractionDigits.Length);
        digits.Append(integerDigits).Append(fractionDigits);
        long power = (long)exponent - fractionDigits.Length;
        int first = 0;
        while (first < digits.Length && digits[first] == '0')
            first++;
        if (first == digits.Length)
            return true;
        int last = digits.Length - 1;
        while (digits[last] == '0')
        {
            last--;
            power++;
        }
        string significant = digits.ToString(first, last - first + 1);
        if (significant.Length > MaxDigits || power < -MaxDigits || significant.Length + power > MaxDigits)
            return false;

        string plain = power >= 0
            ? significant + new string('0', (int)power)
            : -power < significant.Length
                ? significant[..(significant.Length + (int)power)] + "." + significant[(significant.Length + (int)power)..]
                : "0." + new string('0', (int)(-power) - significant.Length) + significant;
        value = decimal.Parse(plain, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (negative)
            value = -value;
        return true;
    }

    /// <summary>The canonical text of a value: plain digits, no exponent, no trailing fractional zeros.</summary>
    public static string Format(decimal value) =>
        value == 0 ? "0" : value.ToString("0.############################", CultureInfo.InvariantCulture);

    /// <summary>Whether a value lies in the exact range <see cref="TryParse"/> accepts (a decimal may hold 29 digits).</summary>
    public static bool IsExact(decimal value) => TryParse(Format(value), out var back) && back == value;
}
