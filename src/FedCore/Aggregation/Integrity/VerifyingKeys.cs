using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace FedCore.Aggregation.Integrity;

/// <summary>
/// Parties' registered signing keys (SubjectPublicKeyInfo by party id), each imported once, on first use, and kept:
/// importing a P-256 key costs more than a verification with it, and every party checks every member's signature at
/// every step of a round (O(N) checks per party and step). A view of some parties (<see cref="Of"/>) shares the imports.
/// </summary>
public sealed class VerifyingKeys
{
    private readonly IReadOnlyDictionary<string, byte[]> _keys;
    private readonly ConcurrentDictionary<string, ECDsa?> _imported;

    public VerifyingKeys(IReadOnlyDictionary<string, byte[]> keys) : this(keys, new ConcurrentDictionary<string, ECDsa?>(StringComparer.Ordinal))
    {
    }

    private VerifyingKeys(IReadOnlyDictionary<string, byte[]> keys, ConcurrentDictionary<string, ECDsa?> imported)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _imported = imported;
    }

    public int Count => _keys.Count;

    public bool Contains(string party) => _keys.ContainsKey(party);

    /// <summary>The keys of <paramref name="parties"/> alone (each must be here), sharing this set's imports.</summary>
    public VerifyingKeys Of(IEnumerable<string> parties) =>
        new(parties.ToDictionary(p => p, p => _keys[p], StringComparer.Ordinal), _imported);

    /// <summary>True if <paramref name="signature"/> over <paramref name="message"/> verifies with <paramref name="party"/>'s key; false for a party not here or a key that is not P-256.</summary>
    public bool Verifies(string party, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (!_keys.TryGetValue(party, out var key))
            return false;
        var imported = _imported.GetOrAdd(party, _ => ParticipantSigningKey.ImportPublic(key)); // views share _keys' bytes
        return imported is not null && ParticipantSigningKey.Verify(imported, message, signature);
    }
}
