namespace Federation.Contracts.Errors;

/// <summary>
/// An operation was refused because of its input or the state of the federation. The message names what was
/// wrong and where; nothing already stored was changed.
/// </summary>
[GenerateSerializer]
public sealed class FederationOperationException : Exception
{
    public FederationOperationException(string code, string message) : base(message) => Code = code;

    /// <summary>A stable machine-readable reason, e.g. "dataset.invalid", "job.invalid".</summary>
    [Id(0)]
    public string Code { get; private set; }
}

/// <summary>
/// A participant grain could not be placed because no silo of its country is up. Placement never falls back to
/// a silo abroad.
/// </summary>
[GenerateSerializer]
public sealed class ResidencyViolationException : Exception
{
    public ResidencyViolationException(string participantKey, string country)
        : base($"No silo of country {country} is up: participant '{participantKey}' may only run in {country} and was not activated anywhere else.")
    {
        ParticipantKey = participantKey;
        Country = country;
    }

    [Id(0)]
    public string ParticipantKey { get; private set; }

    [Id(1)]
    public string Country { get; private set; }
}
