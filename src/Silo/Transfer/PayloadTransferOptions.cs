using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Federation.Silo.Transfer;

/// <summary>How a silo moves payloads larger than one message (see <see cref="PayloadTransfers"/>).</summary>
public sealed record PayloadTransferOptions
{
    /// <summary>Room in a chunk's message for all but the chunk's bytes: its reference and the message framing.</summary>
    public const int ChunkEnvelope = 64 * 1024;

    /// <summary>Bytes per chunk message; with <see cref="ChunkEnvelope"/> it must fit the silo's message body limit.</summary>
    public int ChunkSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Payloads up to this many bytes travel inline, inside the call itself. A call carries at most three payloads (a
    /// model version with the optimiser's two moments), so three inline ones must fit the message limit together: with
    /// the federation's 64 MiB, a 10⁶-parameter round (7.6 MB of masks a sealed update) moves in single messages and only larger
    /// models are chunked.
    /// </summary>
    public int InlineLimit { get; init; } = 16 * 1024 * 1024;

    /// <summary>An offered or partly received payload is released (and its buffer cleared) after this long without a chunk read or written.</summary>
    public TimeSpan Expiry { get; init; } = TimeSpan.FromMinutes(10);

    public void Validate(int maxMessageBodySize)
    {
        if (ChunkSize <= 0 || (long)ChunkSize + ChunkEnvelope > maxMessageBodySize)
            throw new OrleansConfigurationException(
                $"Payload chunks of {ChunkSize} bytes (plus {ChunkEnvelope} for their envelope) do not fit the silo's message body limit of {maxMessageBodySize} bytes (MaxMessageBodySize).");
        if (InlineLimit < 0 || InlineLimit > ChunkSize)
            throw new OrleansConfigurationException($"The inline payload limit ({InlineLimit} bytes) must lie between 0 and the chunk size ({ChunkSize} bytes).");
        if (Expiry <= TimeSpan.Zero)
            throw new OrleansConfigurationException($"Payload transfers must expire after a positive time, not {Expiry}.");
    }
}

/// <summary>Checks the transfer settings against the message limit the silo actually runs with, when the silo starts.</summary>
internal sealed class PayloadTransferOptionsValidator(PayloadTransferOptions transfer, IOptions<SiloMessagingOptions> messaging) : IConfigurationValidator
{
    public void ValidateConfiguration() => transfer.Validate(messaging.Value.MaxMessageBodySize);
}
