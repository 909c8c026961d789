using System.Text.Json;

namespace FedCore.Privacy.Budget;

/// <summary>A ledger's entries as JSON, for its owner's storage; the composed curve is recomputed on reading.</summary>
public static class PrivacyLedgerJson
{
    private sealed record Entries(List<PrivacyCharge> Charges, List<UnprotectedRound> Unprotected);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Write(PrivacyLedger ledger) =>
        JsonSerializer.Serialize(new Entries([.. ledger.Charges], [.. ledger.Unprotected]), Options);

    /// <exception cref="FormatException">The text is not a ledger's entries.</exception>
    public static PrivacyLedger Read(string dataset, string json)
    {
        try
        {
            var entries = JsonSerializer.Deserialize<Entries>(json, Options) ?? throw new FormatException("null");
            return PrivacyLedger.Of(dataset, entries.Charges ?? [], entries.Unprotected ?? []);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
        {
            throw new FormatException($"The privacy ledger of dataset '{dataset}' cannot be read: {e.Message}", e);
        }
    }
}
