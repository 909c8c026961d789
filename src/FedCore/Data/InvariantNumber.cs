using System.Globalization;

namespace FedCore.Data;

/// <summary>
/// The one way numbers are read from data and schema files, so that every participant, whatever its
/// machine's locale, reads "1.5", ".7", "-.1", "63.0" and "1e3" the same way.
/// </summary>
internal static class InvariantNumber
{
    /// <summary>Parses a finite decimal number; "NaN", "Infinity" and thousands separators are rejected.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out double value)
    {
        // NumberStyles.Float: optional sign, decimal point, exponent, surrounding white space; no thousands separators.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
            return true;
        value = 0;
        return false;
    }
}
