using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FedCore.Rounds;

/// <summary>
/// SHA-256 over a domain label and length-prefixed parts: the digests and challenges of the round protocol. Length
/// prefixes keep any two different lists of parts apart; the label keeps the protocol's digests apart from each other.
/// </summary>
internal static class Transcript
{
    public static byte[] Hash(string domain, params IEnumerable<byte[]> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Encoding.UTF8.GetBytes("federation/round/" + domain));
        foreach (byte[] part in parts)
            Append(hash, part);
        return hash.GetHashAndReset();
    }

    public static byte[] Text(string value) => Encoding.UTF8.GetBytes(value);

    public static byte[] Int(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> part)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, part.Length);
        hash.AppendData(length);
        hash.AppendData(part);
    }
}

/// <summary>The digests and challenges both sides of a round derive (README: "Messages"), in one place.</summary>
internal static class RoundChallenges
{
    public static byte[] SetDigest(string jobId, int round, IReadOnlyList<string> participants) =>
        Transcript.Hash("set", [Transcript.Text(jobId), Transcript.Int(round), .. participants.Select(Transcript.Text)]);

    public static byte[] CrsSeed(byte[] setDigest) => Transcript.Hash("crs", setDigest);

    /// <summary>Every member's statement, in member order: what the key challenge and the masking context depend on.</summary>
    public static byte[] StatementsDigest(IReadOnlyList<string> participants, IReadOnlyDictionary<string, byte[]> statements) =>
        Transcript.Hash("statements", participants.Select(p => statements[p]));

    /// <summary>What a member signs at step 3 and finds signed by every member at step 4: the key, statements and plan it accepts.</summary>
    public static byte[] KeyAcceptance(byte[] setDigest, byte[] roundKey, byte[] statementsDigest, byte[] planDigest) =>
        Transcript.Hash("key-check", setDigest, System.Security.Cryptography.SHA256.HashData(roundKey), statementsDigest, planDigest);

    public static byte[] MaskingContext(byte[] setDigest, byte[] keyId, byte[] statementsDigest) =>
        Transcript.Hash("masking", setDigest, keyId, statementsDigest);

    /// <summary>The members of an opened sum, without the round: what a participant remembers with the sum's plan basis.</summary>
    public static byte[] MembersDigest(IReadOnlyList<string> participants) => Transcript.Hash("members", participants.Select(Transcript.Text));

    public static byte[] AggregateChallenge(byte[] setDigest, byte[] aggregateMasks, IReadOnlyList<string> participants, IReadOnlyDictionary<string, byte[]> commitments) =>
        AggregateChallengeOfDigest(setDigest, System.Security.Cryptography.SHA256.HashData(aggregateMasks), participants, commitments);

    /// <summary>The same from the masks' SHA-256 (<see cref="FedCore.Crypto.Multiparty.CiphertextMasks.Digest"/>, which the share names too), hashed once.</summary>
    public static byte[] AggregateChallengeOfDigest(byte[] setDigest, ReadOnlyMemory<byte> masksDigest, IReadOnlyList<string> participants, IReadOnlyDictionary<string, byte[]> commitments) =>
        Transcript.Hash("aggregate-check", setDigest, masksDigest.ToArray(),
            Transcript.Hash("commitments", participants.Select(p => commitments[p])));

    /// <summary>
    /// Step 7's challenge: fixed only once the opened plaintext is, bound to the plan the round trained and to the part
    /// commitments the member revealed its part against (<see cref="PartCommitmentsDigest"/>).
    /// </summary>
    public static byte[] OpeningChallenge(byte[] setDigest, byte[] planDigest, byte[] openedDigest, byte[] partCommitmentsDigest) =>
        Transcript.Hash("opening-check", setDigest, planDigest, openedDigest, partCommitmentsDigest);

    /// <summary>Every member's step-6 commitment to its part, in member order.</summary>
    public static byte[] PartCommitmentsDigest(IReadOnlyList<string> participants, IReadOnlyDictionary<string, byte[]> commitments) =>
        Transcript.Hash("part-commitments", participants.Select(p => commitments[p]));
}
