using Orleans.Concurrency;

namespace Federation.Contracts.Transfer;

/// <summary>
/// Installed on every grain activation of the federation: moves the chunks of a <see cref="PayloadReference"/>
/// held by the activation. Use it through the silo's <c>PayloadTransfers</c>, which checks lengths and hashes.
/// The calls interleave with the grain's own: they touch only the transfer buffers, never the grain's state.
/// </summary>
public interface IPayloadTransferExtension : IGrainExtension
{
    /// <summary>Chunk <paramref name="index"/> of bytes this activation offered; once every chunk was read, they are released.</summary>
    [AlwaysInterleave]
    Task<byte[]> ReadChunk(Guid transferId, int index);

    /// <summary>Chunk <paramref name="index"/> of bytes <paramref name="reference"/> names, kept until the grain takes them.</summary>
    [AlwaysInterleave]
    Task WriteChunk(PayloadReference reference, int index, [Immutable] byte[] chunk);
}
