namespace Federation.Contracts.Participants;

/// <summary>
/// A participant grain's key: "<COUNTRY>/<organisation>", e.g. "HU/budapest". The country is an ISO 3166-1
/// alpha-2 code; the placement filter reads it from the key, so residency never depends on mutable state.
/// </summary>
public static class ParticipantKey
{
    public static string Format(string country, string organisation)
    {
        var key = $"{country}/{organisation}";
        _ = Parse(key);
        return key;
    }

    public static (string Country, string Organisation) Parse(string key)
    {
        if (!TryParse(key, out var country, out var organisation, out var error))
            throw new ArgumentException(error, nameof(key));
        return (country, organisation);
    }

    public static bool TryParse(string? key, out string country, out string organisation, out string error)
    {
        country = organisation = "";
        if (string.IsNullOrEmpty(key))
        {
            error = "Participant key is empty; expected '<COUNTRY>/<organisation>', e.g. 'HU/budapest'.";
            return false;
        }
        int slash = key.IndexOf('/');
        if (slash < 0)
        {
            error = $"Participant key '{key}' has no '/'; expected '<COUNTRY>/<organisation>', e.g. 'HU/budapest'.";
            return false;
        }
        var c = key[..slash];
        var o = key[(slash + 1)..];
        if (c.Length != 2 || !char.IsAsciiLetterUpper(c[0]) || !char.IsAsciiLetterUpper(c[1]))
        {
            error = $"Participant key '{key}': country '{c}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU').";
            return false;
        }
        if (o.Length == 0 || o.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.')))
        {
            error = $"Participant key '{key}': organisation '{o}' must be non-empty and use only letters, digits, '-', '_' or '.'.";
            return false;
        }
        country = c;
        organisation = o;
        error = "";
        return true;
    }
}
