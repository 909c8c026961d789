using FedCore.Aggregation.Protection;
using Federation.Contracts.Errors;

namespace Federation.Silo.Grains;

/// <summary>Resolves the update protection scheme a job names. Unknown names are refused, never downgraded.</summary>
public sealed class UpdateProtectionSchemes
{
    private readonly PlaintextSimulation _plaintext = new();

    public IReadOnlyList<string> Known => [PlaintextSimulation.SchemeName];

    public IUpdateProtection Resolve(string scheme) => scheme switch
    {
        PlaintextSimulation.SchemeName => _plaintext,
        _ => throw new FederationOperationException("protection.unknown",
            $"Update protection '{scheme}' is not known here (known: {string.Join(", ", Known)})."),
    };
}
