using FedCore.Aggregation.Protection;
using FedCore.Crypto.Ckks;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;

namespace Federation.Silo.Grains;

/// <summary>Resolves the update protection a job names. Unknown names are refused, never downgraded.</summary>
public sealed class UpdateProtectionSchemes
{
    public static IReadOnlyList<string> Known { get; } = [CkksProtection.SchemeName, PlaintextSimulation.SchemeName];

    public IUpdateProtection Resolve(ProtectionSettings settings) => settings.Scheme switch
    {
        CkksProtection.SchemeName => Create(() => new CkksProtection(CkksParameters.Default, settings.UpdateBound)),
        PlaintextSimulation.SchemeName => new PlaintextSimulation(),
        _ => throw new FederationOperationException("protection.unknown",
            $"Update protection '{settings.Scheme}' is not known (known: {string.Join(", ", Known)})."),
    };

    private static IUpdateProtection Create(Func<IUpdateProtection> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("protection.invalid", e.Message);
        }
    }
}
