namespace FedCore.Governance.Membership;

/// <summary>
/// An organisation's id is its participant key, "&lt;COUNTRY&gt;/&lt;name&gt;" (e.g. "HU/budapest"): the country is an
/// ISO 3166-1 alpha-2 code in capitals, the name uses letters, digits, '-', '_' and '.'. The same syntax as the
/// silo's participant keys (kept apart because FedCore does not reference the silo).
/// </summary>
public static class OrganisationId
{
    public static bool TryParse(string? id, out string country, out string error)
    {
        country = "";
        int slash = id?.IndexOf('/') ?? -1;
        if (id is null || slash < 0)
        {
            error = $"'{id}' is not an organisation id of the form '<COUNTRY>/<name>', e.g. 'HU/budapest'";
            return false;
        }
        if (!Canonical.Formats.IsCountryCode(id[..slash]))
        {
            error = $"'{id}': country '{id[..slash]}' is not an ISO 3166-1 alpha-2 code in capitals (e.g. 'HU')";
            return false;
        }
        if (!Canonical.Formats.IsName(id[(slash + 1)..]))
        {
            error = $"'{id}': name '{id[(slash + 1)..]}' must be non-empty and use only letters, digits, '-', '_' or '.'";
            return false;
        }
        country = id[..slash];
        error = "";
        return true;
    }

    /// <summary>The country of a well-formed id.</summary>
    /// <exception cref="ArgumentException">The id is not well-formed.</exception>
    public static string CountryOf(string id) =>
        TryParse(id, out var country, out var error) ? country : throw new ArgumentException(error, nameof(id));
}
