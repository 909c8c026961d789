namespace FedCore.Governance.Membership;

/// <summary>A membership chain that is refused: names the record serial, the organisation (when one is at fault) and the rule broken.</summary>
public sealed class MembershipException(long serial, string? organisation, string rule)
    : GovernanceException($"membership record {serial}{(organisation is null ? "" : $", organisation '{organisation}'")}: {rule}")
{
    public long Serial { get; } = serial;

    public string? Organisation { get; } = organisation;

    public string Rule { get; } = rule;
}
