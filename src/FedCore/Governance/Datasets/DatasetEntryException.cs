namespace FedCore.Governance.Datasets;

/// <summary>A catalog entry that is refused: names the organisation, the dataset and the rule broken.</summary>
public sealed class DatasetEntryException(string organisation, string dataset, string rule)
    : GovernanceException($"dataset '{dataset}' of '{organisation}': {rule}")
{
    public string Organisation { get; } = organisation;

    public string Dataset { get; } = dataset;

    public string Rule { get; } = rule;
}
