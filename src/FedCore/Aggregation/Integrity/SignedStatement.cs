using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FedCore.Aggregation.Integrity;

/// <summary>
/// What a participant signs: a purpose, the job, the round, itself, the scheme, and the SHA-256 of the payload.
/// The bytes are length-prefixed fields after a versioned domain tag, so that no two different statements
/// share an encoding and a signature for one purpose (a key share) is never valid for another (an update).
/// </summary>
public sealed record SignedStatement(string Purpose, string JobId, int Round, string ParticipantId, string Scheme, byte[] PayloadSha256)
{
    // Purposes: FedCore.Rounds.RoundPurpose (and the governance records' own).
    private const string DomainTag = "federation/signed-statement/v1";

    public static SignedStatement For(string purpose, string jobId, int round, string participantId, string scheme, ReadOnlySpan<byte> payload) =>
        new(purpose, jobId, round, participantId, scheme, SHA256.HashData(payload));

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        foreach (var text in new[] { DomainTag, Purpose, JobId, ParticipantId, Scheme })
            WriteField(stream, Encoding.UTF8.GetBytes(text));
        Span<byte> round = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(round, Round);
        WriteField(stream, round);
        WriteField(stream, PayloadSha256);
        return stream.ToArray();
    }

    private static void WriteField(Stream stream, ReadOnlySpan<byte> field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, field.Length);
        stream.Write(length);
        stream.Write(field);
    }
}
