using System.Diagnostics;
using System.Security.Cryptography;
using Federation.Contracts.Transfer;
using Federation.Silo.Hosting;
using Federation.Silo.Placement;
using Federation.Silo.Transfer;

namespace Federation.Silo.Tests.Transfer;

/// <summary>What a probe received: the SHA-256 of the bytes and how long moving them took.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeReceipt([property: Id(0)] string Sha256, [property: Id(1)] TimeSpan Elapsed);

/// <summary>A test grain pinned to the country of its key ("HU/probe"), moving payloads to and from its peers.</summary>
public interface ITransferProbeGrain : IGrainWithStringKey
{
    Task<string> HostCountry();

    /// <summary>Offers <see cref="TransferProbeGrain.Bytes"/>(<paramref name="length"/>, <paramref name="seed"/>).</summary>
    Task<Payload> Produce(int length, int seed);

    Task<ProbeReceipt> Consume(Payload payload);

    Task<ProbeReceipt> ConsumeInline(byte[] bytes);

    /// <summary>Has <paramref name="sourceKey"/> produce a payload and fetches it.</summary>
    Task<ProbeReceipt> FetchFrom(string sourceKey, int length, int seed);

    /// <summary>Pushes a payload to <paramref name="targetKey"/> and has it consume the payload.</summary>
    Task<ProbeReceipt> PushTo(string targetKey, int length, int seed);

    /// <summary>Sends the bytes to <paramref name="targetKey"/> inside one call, as if there were no transfers.</summary>
    Task<ProbeReceipt> SendInlineTo(string targetKey, int length, int seed);
}

[CountryResidencyPlacementFilter]
public sealed class TransferProbeGrain(PayloadTransfers transfers, SiloCountry country) : Grain, ITransferProbeGrain
{
    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256Of(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    public Task<string> HostCountry() => Task.FromResult(country.Code);

    public Task<Payload> Produce(int length, int seed) => Task.FromResult(transfers.Offer(GrainContext, Bytes(length, seed)));

    public Task<ProbeReceipt> Consume(Payload payload) => Task.FromResult(new ProbeReceipt(Sha256Of(transfers.Take(GrainContext, payload)), TimeSpan.Zero));

    public Task<ProbeReceipt> ConsumeInline(byte[] bytes) => Task.FromResult(new ProbeReceipt(Sha256Of(bytes), TimeSpan.Zero));

    public async Task<ProbeReceipt> FetchFrom(string sourceKey, int length, int seed)
    {
        var payload = await GrainFactory.GetGrain<ITransferProbeGrain>(sourceKey).Produce(length, seed);
        var clock = Stopwatch.StartNew();
        var bytes = await transfers.FetchAsync(payload);
        return new ProbeReceipt(Sha256Of(bytes), clock.Elapsed);
    }

    public async Task<ProbeReceipt> PushTo(string targetKey, int length, int seed)
    {
        var target = GrainFactory.GetGrain<ITransferProbeGrain>(targetKey);
        var bytes = Bytes(length, seed);
        var clock = Stopwatch.StartNew();
        var receipt = await target.Consume(await transfers.PushAsync(target, bytes));
        return receipt with { Elapsed = clock.Elapsed };
    }

    public async Task<ProbeReceipt> SendInlineTo(string targetKey, int length, int seed) =>
        await GrainFactory.GetGrain<ITransferProbeGrain>(targetKey).ConsumeInline(Bytes(length, seed));
}
