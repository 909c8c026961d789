using System.Globalization;

namespace FedCore.Policy.Language;

/// <summary>Dates in policies and decisions are calendar days written yyyy-mm-dd; rules take effect and expire on days.</summary>
public static class Dates
{
    public const string Format = "yyyy-MM-dd";

    public static bool TryParse(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    public static string Write(DateOnly date) => date.ToString(Format, CultureInfo.InvariantCulture);
}
