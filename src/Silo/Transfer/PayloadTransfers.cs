using System.Security.Cryptography;
using Federation.Contracts.Errors;
using Federation.Contracts.Transfer;

namespace Federation.Silo.Transfer;

/// <summary>
/// Moves byte arrays of any size between grains without a message over the silo's limit. A small payload travels
/// inline; a large one as a <see cref="PayloadReference"/> whose chunks move through the holder's
/// <see cref="IPayloadTransferExtension"/>, checked for length and SHA-256 at the receiving end.
/// <list type="bullet">
/// <item>A grain returning bytes: <see cref="Offer"/> them and return the payload; the caller <see cref="FetchAsync"/>es it.</item>
/// <item>A caller sending bytes: <see cref="PushAsync"/> them to the target, call it with the payload; it <see cref="Take"/>s them.</item>
/// </list>
/// The holder must be a grain with one activation (not a stateless worker); a reference is read or taken once.
/// </summary>
public sealed class PayloadTransfers(IGrainFactory grains, PayloadTransferOptions options)
{
    /// <summary>A payload of <paramref name="bytes"/> that callers of the grain <paramref name="holder"/> fetch.</summary>
    public Payload Offer(IGrainContext holder, byte[] bytes) =>
        bytes.Length <= options.InlineLimit ? Payload.OfInline(bytes) : Payload.OfReference(TransfersOf(holder).Offer(bytes));

    /// <summary>The bytes of a payload sent to the grain <paramref name="holder"/>: inline, or pushed to it before the call.</summary>
    public byte[] Take(IGrainContext holder, Payload payload) =>
        payload.Inline ?? TransfersOf(holder).Take(payload.Reference!);

    /// <summary>The bytes of a payload a grain returned: inline, or read chunk by chunk from the grain that offered them.</summary>
    public async Task<byte[]> FetchAsync(Payload payload, CancellationToken cancellationToken = default)
    {
        if (payload.Inline is { } inline)
            return inline;
        var reference = payload.Reference!;
        var holder = grains.GetGrain<IPayloadTransferExtension>(reference.Holder);
        var bytes = new byte[reference.Length];
        await ForEachChunkAsync(reference, async index =>
        {
            var chunk = await holder.ReadChunk(reference.TransferId, index);
            if (chunk.Length != reference.ChunkLength(index))
                throw Error("transfer.chunk-length", reference, $"chunk {index} has {chunk.Length} bytes, not {reference.ChunkLength(index)}");
            chunk.CopyTo(bytes, reference.ChunkOffset(index));
        }, cancellationToken);
        if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(reference.Sha256))
        {
            CryptographicOperations.ZeroMemory(bytes);
            throw Error("transfer.hash-mismatch", reference, $"the {reference.Length} bytes read do not have the SHA-256 its reference names");
        }
        return bytes;
    }

    /// <summary>
    /// A payload of <paramref name="bytes"/> for a call to <paramref name="target"/>: inline if small, otherwise pushed
    /// to the target chunk by chunk now; the target has <see cref="PayloadTransferOptions.Expiry"/> to take it.
    /// </summary>
    public async Task<Payload> PushAsync(IAddressable target, byte[] bytes, CancellationToken cancellationToken = default)
    {
        if (bytes.Length <= options.InlineLimit)
            return Payload.OfInline(bytes);
        var reference = new PayloadReference(Guid.NewGuid(), target.GetGrainId(), bytes.Length, options.ChunkSize, SHA256.HashData(bytes));
        var holder = target.AsReference<IPayloadTransferExtension>();
        await ForEachChunkAsync(reference, index =>
            holder.WriteChunk(reference, index, bytes.AsSpan(reference.ChunkOffset(index), reference.ChunkLength(index)).ToArray()),
            cancellationToken);
        return Payload.OfReference(reference);
    }

    /// <summary>
    /// Moves the chunks with two calls in flight, so that one chunk is on the wire while the other is (de)serialised,
    /// on the current scheduler: inside a grain, its calls stay the grain's.
    /// </summary>
    private static Task ForEachChunkAsync(PayloadReference reference, Func<int, Task> move, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            Enumerable.Range(0, reference.ChunkCount),
            new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = cancellationToken, TaskScheduler = TaskScheduler.Current },
            (index, _) => new ValueTask(move(index)));

    private static PayloadTransferExtension TransfersOf(IGrainContext grain) =>
        (PayloadTransferExtension)grain.GetComponent<IGrainExtensionBinder>()!.GetExtension<IPayloadTransferExtension>();

    private static FederationOperationException Error(string code, PayloadReference reference, string what) =>
        new(code, $"Payload transfer {reference.TransferId} from grain {reference.Holder}: {what}.");
}
