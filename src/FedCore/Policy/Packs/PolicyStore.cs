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

    /// <summary>
    /// Loads the folder; on success it is in force, on failure the previous set stays and the error says why. Files
    /// identical to the set in force (by the set's hash) are not parsed again.
    /// </summary>
    public bool TryReload(string directory, out PolicyLoadException? error)
    {
        try
        {
            var files = PolicySetLoader.ReadFiles(directory);
            if (Current is { } current && current.Hash == PolicySetHash.Compute(files))
            {
                error = null;
                return true;
            }
            Volatile.Write(ref _current, PolicySetLoader.Load(files, directory));
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
