using System.Collections.Immutable;
using System.Text.Json.Nodes;
using FedCore.Aggregation.Integrity;
using FedCore.Governance;
using FedCore.Governance.Canonical;

namespace FedCore.Audit;

/// <summary>A signed tree head, a co-signer's state or an export file that cannot be read: names the source, the JSON path and the problem.</summary>
public sealed class AuditFormatException(string sourceName, string jsonPath, string problem, Exception? inner = null)
    : Exception($"{sourceName}: {jsonPath}: {problem}", inner)
{
    public string SourceName { get; } = sourceName;

    public string JsonPath { get; } = jsonPath;

    public string Problem { get; } = problem;
}

/// <summary>One country's co-signature over one head: its silo's ECDSA P-256 signature under <see cref="TreeHead.CosignatureTag"/>.</summary>
public sealed record TreeHeadCosignature(TreeHead Head, string Country, ImmutableArray<byte> Signature)
{
    /// <summary>Whether <see cref="Signature"/> is <see cref="Country"/>'s over <see cref="Head"/>, made with the key whose public part is <paramref name="countryPublicKey"/>.</summary>
    public bool Verify(byte[] countryPublicKey) => Verify(Head, Country, Signature, countryPublicKey);

    internal static ImmutableArray<byte> Sign(TreeHead head, string country, ParticipantSigningKey key) =>
        Statement.Sign(key, TreeHead.CosignatureTag, head.CosignedBody(country));

    internal static bool Verify(TreeHead head, string country, ImmutableArray<byte> signature, byte[]? countryPublicKey) =>
        countryPublicKey is not null && Formats.IsCountryCode(country)
        && Statement.Verify([.. countryPublicKey], TreeHead.CosignatureTag, head.CosignedBody(country), signature);
}

/// <summary>Why a signed tree head did not verify.</summary>
public enum TreeHeadFault
{
    None,
    /// <summary>The operator's signature does not verify with the operator key.</summary>
    OperatorSignature,
    /// <summary>A co-signature names a country that has no key in the given map.</summary>
    UnknownCountry,
    /// <summary>A country's co-signature does not verify with that country's key.</summary>
    Cosignature,
    /// <summary>A country in the map has not co-signed (when every country is required).</summary>
    MissingCosignature,
}

/// <summary>The outcome of <see cref="SignedTreeHead.Verify"/>: valid, or the fault, the country at fault (null for the operator) and a sentence.</summary>
public readonly record struct TreeHeadVerdict(TreeHeadFault Fault, string? Country, string Reason)
{
    public static readonly TreeHeadVerdict Valid = new(TreeHeadFault.None, null, "valid");

    public bool IsValid => Fault == TreeHeadFault.None;

    public override string ToString() => IsValid ? "valid" : $"{Fault}{(Country is null ? "" : $" ({Country})")}: {Reason}";
}

/// <summary>
/// A tree head with the operator's (federation's) signature and the co-signatures of the countries' silos, by
/// country code. Immutable; <see cref="WithCosignature"/> gives a new one.
/// </summary>
/// <remarks>
/// The JSON form (<see cref="Write"/>, canonical JSON laid out with two spaces, as governance files):
/// <code>
/// {
///   "cosignatures": [ { "country": "CH", "signature": "&lt;base64, 64 bytes&gt;" }, … ],   // ordered by country
///   "head": { "root": "&lt;64 lower-case hex&gt;", "size": 9, "time": "2025-03-01T09:00:00.250Z" },
///   "signature": "&lt;base64, 64 bytes&gt;"
/// }
/// </code>
/// <see cref="Read"/> is closed-world (unknown or repeated fields are errors naming their path) and accepts only that
/// one written form, so that an export's bytes are a function of its content: any other byte is refused.
/// </remarks>
public sealed class SignedTreeHead
{
    /// <summary>Larger documents are refused unread.</summary>
    public const int MaxBytes = 64 << 10;

    /// <summary>An ECDSA P-256 signature in IEEE P1363 form (r ‖ s), as <see cref="ParticipantSigningKey.Sign"/> makes it.</summary>
    public const int SignatureLength = 64;

    private SignedTreeHead(TreeHead head, ImmutableArray<byte> signature, ImmutableSortedDictionary<string, ImmutableArray<byte>> cosignatures)
    {
        Head = head;
        Signature = signature;
        Cosignatures = cosignatures;
    }

    public TreeHead Head { get; }

    /// <summary>The operator's signature over <see cref="TreeHead.Encode"/> under <see cref="TreeHead.SignatureTag"/>.</summary>
    public ImmutableArray<byte> Signature { get; }

    /// <summary>Country code → that country's silo's signature, in ordinal order of the codes.</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<byte>> Cosignatures { get; }

    /// <summary>The operator signs <paramref name="head"/>; no country has co-signed yet.</summary>
    public static SignedTreeHead Sign(TreeHead head, ParticipantSigningKey operatorKey)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(operatorKey);
        return new(head, Statement.Sign(operatorKey, TreeHead.SignatureTag, head.Encode()), ImmutableSortedDictionary.Create<string, ImmutableArray<byte>>(StringComparer.Ordinal));
    }

    /// <summary>Puts signatures together as they are, checking shapes only (not the signatures: <see cref="Verify"/> does).</summary>
    /// <exception cref="ArgumentException">A signature that is not 64 bytes, or a country code that is not two capital letters.</exception>
    public static SignedTreeHead Create(TreeHead head, ImmutableArray<byte> signature, IEnumerable<KeyValuePair<string, ImmutableArray<byte>>> cosignatures)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(cosignatures);
        if (signature.IsDefault || signature.Length != SignatureLength)
            throw new ArgumentException($"The operator's signature must be {SignatureLength} bytes.", nameof(signature));
        var builder = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<byte>>(StringComparer.Ordinal);
        foreach (var (country, cosignature) in cosignatures)
        {
            if (!Formats.IsCountryCode(country))
                throw new ArgumentException($"'{country}' is not a country code (two capital letters).", nameof(cosignatures));
            if (cosignature.IsDefault || cosignature.Length != SignatureLength)
                throw new ArgumentException($"{country}'s co-signature must be {SignatureLength} bytes.", nameof(cosignatures));
            if (!builder.TryAdd(country, cosignature))
                throw new ArgumentException($"{country} co-signs twice.", nameof(cosignatures));
        }
        return new(head, signature, builder.ToImmutable());
    }

    /// <summary>Adds a country's co-signature of this head.</summary>
    /// <exception cref="ArgumentException">The co-signature is for another head, or the country already has a different one here.</exception>
    public SignedTreeHead WithCosignature(TreeHeadCosignature cosignature)
    {
        ArgumentNullException.ThrowIfNull(cosignature);
        if (!cosignature.Head.Equals(Head))
            throw new ArgumentException($"The co-signature of {cosignature.Country} is for the head ({cosignature.Head}), not this one ({Head}).", nameof(cosignature));
        if (Cosignatures.TryGetValue(cosignature.Country, out var existing))
            return existing.SequenceEqual(cosignature.Signature)
                ? this
                : throw new ArgumentException($"{cosignature.Country} has already co-signed this head with another signature.", nameof(cosignature));
        return Create(Head, Signature, Cosignatures.SetItem(cosignature.Country, cosignature.Signature));
    }

    /// <summary>Whether the operator's signature verifies with <paramref name="operatorPublicKey"/> (SubjectPublicKeyInfo DER).</summary>
    public bool VerifyOperator(byte[] operatorPublicKey)
    {
        ArgumentNullException.ThrowIfNull(operatorPublicKey);
        return Statement.Verify([.. operatorPublicKey], TreeHead.SignatureTag, Head.Encode(), Signature);
    }

    /// <summary>
    /// Checks the operator's signature, then every co-signature in country order (its country must have a key in
    /// <paramref name="countryKeys"/>), then, when <paramref name="requireEveryCountry"/>, that every country in the map
    /// has co-signed. The first failure is returned, naming the signer.
    /// </summary>
    public TreeHeadVerdict Verify(byte[] operatorPublicKey, IReadOnlyDictionary<string, byte[]> countryKeys, bool requireEveryCountry = true)
    {
        ArgumentNullException.ThrowIfNull(countryKeys);
        if (!VerifyOperator(operatorPublicKey))
            return new(TreeHeadFault.OperatorSignature, null,
                $"the operator's signature over the head ({Head}) does not verify with the operator key: another key made it, or the head was altered");
        foreach (var (country, signature) in Cosignatures)
        {
            if (!countryKeys.TryGetValue(country, out var key))
                return new(TreeHeadFault.UnknownCountry, country, $"{country} co-signed, but no key is known for {country}");
            if (!TreeHeadCosignature.Verify(Head, country, signature, key))
                return new(TreeHeadFault.Cosignature, country,
                    $"{country}'s co-signature does not verify with {country}'s key: another key made it, it was made for another country or head, or it was altered");
        }
        if (requireEveryCountry)
            foreach (var country in countryKeys.Keys.Order(StringComparer.Ordinal))
                if (!Cosignatures.ContainsKey(country))
                    return new(TreeHeadFault.MissingCosignature, country, $"{country} has not co-signed the head ({Head})");
        return TreeHeadVerdict.Valid;
    }

    internal JsonObject ToJson() => new()
    {
        ["head"] = new JsonObject
        {
            ["size"] = Head.Size,
            ["root"] = Head.RootHex,
            ["time"] = TreeHead.FormatTime(Head.Time),
        },
        ["signature"] = Formats.Base64(Signature),
        ["cosignatures"] = new JsonArray([.. Cosignatures.Select(c => (JsonNode)new JsonObject
        {
            ["country"] = c.Key,
            ["signature"] = Formats.Base64(c.Value),
        })]),
    };

    /// <summary>The one written form: canonical JSON laid out for people, ending in a newline.</summary>
    public byte[] Write() => CanonicalJson.WriteIndented(ToJson());

    /// <summary>Reads <see cref="Write"/>'s form and nothing else. Does not verify signatures (<see cref="Verify"/> does).</summary>
    /// <exception cref="AuditFormatException">Not that form: names the JSON path (e.g. <c>$.cosignatures[1].signature</c>) and the problem.</exception>
    public static SignedTreeHead Read(ReadOnlyMemory<byte> utf8Json, string source = "signed tree head")
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return Parse(utf8Json, source);
        }
        catch (GovernanceFormatException e)
        {
            throw new AuditFormatException(e.SourceName, e.JsonPath, e.Problem, e);
        }
    }

    private static SignedTreeHead Parse(ReadOnlyMemory<byte> utf8Json, string source)
    {
        SignedTreeHead result;
        using (var document = JsonInput.Parse(utf8Json, source, MaxBytes))
        {
            var root = JsonFields.Of(document.RootElement, source, "$", "head", "signature", "cosignatures");
            var body = root.Object("head", "size", "root", "time");
            long size = body.Integer("size", 0, long.MaxValue);
            byte[] merkleRoot = Convert.FromHexString(body.Digest("root"));
            string timeText = body.Text("time");
            if (!TreeHead.TryParseTime(timeText, out var time))
                throw body.Error("time", $"\"{timeText}\" is not a UTC time of the form 2025-03-01T09:00:00.250Z (three fractional digits, 'Z')");
            if (!TreeHead.TryCreate(size, merkleRoot, time, out var head, out var problem))
            {
                int colon = problem.IndexOf(':');
                throw body.Error(problem[..colon], problem[(colon + 2)..]);
            }
            var signature = ReadSignature(root, "signature");
            var cosignatures = root.Array("cosignatures", (element, path) =>
            {
                var item = JsonFields.Of(element, source, path, "country", "signature");
                string country = item.Text("country");
                if (!Formats.IsCountryCode(country))
                    throw item.Error("country", $"\"{country}\" is not a country code (two capital letters, ISO 3166-1 alpha-2)");
                return KeyValuePair.Create(country, ReadSignature(item, "signature"));
            });
            for (int i = 1; i < cosignatures.Length; i++)
                if (string.CompareOrdinal(cosignatures[i - 1].Key, cosignatures[i].Key) >= 0)
                    throw new GovernanceFormatException(source, $"$.cosignatures[{i}].country",
                        cosignatures[i - 1].Key == cosignatures[i].Key
                            ? $"{cosignatures[i].Key} co-signs twice"
                            : $"{cosignatures[i].Key} comes after {cosignatures[i - 1].Key}: co-signatures are in country order");
            result = Create(head, signature, cosignatures);
        }
        // One written form: anything the fields above accept but Write would not produce (layout, escapes, number forms).
        byte[] canonical = result.Write();
        var input = utf8Json.Span;
        if (!input.SequenceEqual(canonical))
        {
            int at = input.CommonPrefixLength(canonical);
            throw new GovernanceFormatException(source, "$",
                $"is not in its one written form (canonical JSON, laid out as written): it differs at byte {at + 1}");
        }
        return result;
    }

    private static ImmutableArray<byte> ReadSignature(JsonFields fields, string name)
    {
        var bytes = fields.Bytes(name);
        return bytes.Length == SignatureLength
            ? bytes
            : throw fields.Error(name, $"is {bytes.Length} bytes; an ECDSA P-256 signature (r ‖ s) is {SignatureLength}");
    }
}
