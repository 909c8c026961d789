namespace FedCore.Policy.Packs;

/// <summary>
/// Holds the policy set in force. A reload that fails keeps the previous set and reports why: a typo in a policy file
/// never leaves a silo with no policies, nor with half of a new set.
/// </summary>
public sealed class PolicyStore
{
    private PolicySet? _current;

    /// <summary>The set in force; null until a load has succeeded.</summary>
    public PolicySet? Current => Volatile.Read(ref _current);

    /// <summary>Loads the folder; on success it is in force, on failure the previous set stays and the error says why.</summary>
    public bool TryReload(string directory, out PolicyLoadException? error)
    {
        try
        {
            Volatile.Write(ref _current, PolicySetLoader.Load(directory));
            error = null;
            return true;
        }
        catch (PolicyLoadException e)
        {
            error = e;
            return false;
        }
    }
}
