namespace Federation.Contracts.Transfer;

/// <summary>
/// Bytes that travel between grains: inline when small, otherwise a <see cref="PayloadReference"/> to bytes that one
/// grain activation holds and that travel in chunks, so that no message exceeds the federation's message size limit.
/// [Immutable]: between grains of one silo the bytes are not copied, so the job and its participants may hold one array,
/// which the round protocol reads in place (FedCore's Adopt). Nobody may write into a payload's bytes once sent, nor
/// return them to a pool: a plaintext one party checked would change under another.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Payload
{
    [Id(0)]
    public byte[]? Inline { get; private init; }

    [Id(1)]
    public PayloadReference? Reference { get; private init; }

    public int Length => Inline?.Length ?? Reference!.Length;

    public static Payload OfInline(byte[] bytes) => new() { Inline = bytes };

    public static Payload OfReference(PayloadReference reference) => new() { Reference = reference };
}

/// <summary>
/// Names bytes held by the activation of <see cref="Holder"/>: <see cref="Length"/> bytes in chunks of
/// <see cref="ChunkSize"/> (the last one shorter), whose SHA-256 is <see cref="Sha256"/>. Read or taken once.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PayloadReference(
    [property: Id(0)] Guid TransferId,
    [property: Id(1)] GrainId Holder,
    [property: Id(2)] int Length,
    [property: Id(3)] int ChunkSize,
    [property: Id(4)] byte[] Sha256)
{
    public int ChunkCount => (int)(((long)Length + ChunkSize - 1) / ChunkSize);

    public int ChunkOffset(int index) => index * ChunkSize;

    public int ChunkLength(int index) => Math.Min(ChunkSize, Length - ChunkOffset(index));
}
