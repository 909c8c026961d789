using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace FedCore.Aggregation.Integrity;

/// <summary>
/// Parties' registered signing keys (SubjectPublicKeyInfo by party id), each imported once, on first use, and kept:
/// importing a P-256 key costs more than a verification with it, and every party checks every member's signature at
/// every step of a round (O(N) checks per party and step). A view of some parties (<see cref="Of"/>) shares the imports.
/// It also remembers the signatures that verified, by party, message and signature bytes: a member checks the part
/// commitments and step-7 answers again at steps 7b and 8, a fifth of its checks at 0.1–0.2 ms each.
/// </summary>
public sealed class VerifyingKeys
{
    private readonly IReadOnlyDictionary<string, byte[]> _keys;
    private readonly ConcurrentDictionary<string, ECDsa?> _imported;
    private readonly ConcurrentDictionary<(string Party, string Signed), bool> _verified;
    private readonly int _memoLimit;

    public VerifyingKeys(IReadOnlyDictionary<string, byte[]> keys)
        : this(keys, new ConcurrentDictionary<string, ECDsa?>(StringComparer.Ordinal), new(), Math.Max(4096, 16 * (keys?.Count ?? 0)))
    {
    }

    private VerifyingKeys(IReadOnlyDictionary<string, byte[]> keys, ConcurrentDictionary<string, ECDsa?> imported,
        ConcurrentDictionary<(string, string), bool> verified, int memoLimit)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _imported = imported;
        _verified = verified;
        _memoLimit = memoLimit;
    }

    public int Count => _keys.Count;

    public bool Contains(string party) => _keys.ContainsKey(party);

    /// <summary>The keys of <paramref name="parties"/> alone (each must be here), sharing this set's imports and what verified.</summary>
    public VerifyingKeys Of(IEnumerable<string> parties) =>
        new(parties.ToDictionary(p => p, p => _keys[p], StringComparer.Ordinal), _imported, _verified, _memoLimit);

    /// <summary>True if <paramref name="signature"/> over <paramref name="message"/> verifies with <paramref name="party"/>'s key; false for a party not here or a key that is not P-256.</summary>
    public bool Verifies(string party, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (!_keys.TryGetValue(party, out var key))
            return false;
        // The same bytes signed by the same key verify again: only what verified is kept, under the message's SHA-256.
        var signed = (party, Convert.ToBase64String([.. SHA256.HashData(message), .. signature]));
        if (_verified.ContainsKey(signed))
            return true;
        var imported = _imported.GetOrAdd(party, _ => ParticipantSigningKey.ImportPublic(key)); // views share _keys' bytes
        if (imported is null || !ParticipantSigningKey.Verify(imported, message, signature))
            return false;
        if (_verified.Count >= _memoLimit)
            _verified.Clear(); // the limit holds more than a round's messages from every party (about ten each)
        _verified[signed] = true;
        return true;
    }
}
