using System.Security.Cryptography;
using Federation.Contracts.Errors;
using Federation.Contracts.Transfer;
using Federation.Silo.Hosting;
using Federation.Silo.Transfer;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federation.Silo.Tests.Transfer;

/// <summary>Counts the chunk calls a silo serves.</summary>
public sealed class ChunkCallCounter : IIncomingGrainCallFilter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod.DeclaringType == typeof(IPayloadTransferExtension))
            Interlocked.Increment(ref _count);
        return context.Invoke();
    }
}

/// <summary>HU and CH silos whose messages may carry at most 16 MiB; transfers expire after 5 s idle.</summary>
public sealed class TransferFederation : IAsyncLifetime
{
    public const int MessageLimit = 16 * 1024 * 1024;
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(5);

    /// <summary>8 MiB chunks and 1 MiB inline: smaller than the federation's defaults, so that 20 MiB already takes three chunks.</summary>
    public static readonly PayloadTransferOptions Options = new() { ChunkSize = 8 * 1024 * 1024, InlineLimit = 1024 * 1024, Expiry = Expiry };
    private readonly TempDirectory _dir = new("federation-transfer");

    public LocalFederation Federation { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Federation = await LocalFederation.StartAsync(TestFederations.Options(_dir.Path, "HU", "CH") with
        {
            MaxMessageBodySize = MessageLimit,
            Transfer = Options,
            ConfigureSilo = silo => silo.AddIncomingGrainCallFilter<ChunkCallCounter>(),
        });

    public async Task DisposeAsync()
    {
        await Federation.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>Payloads larger than one message between grains on two silos (countries), both ways, and how transfers fail.</summary>
public sealed class PayloadTransferTests(TransferFederation fixture, ITestOutputHelper output) : IClassFixture<TransferFederation>
{
    private const int Large = 100 * 1024 * 1024;
    private static readonly int ChunkSize = TransferFederation.Options.ChunkSize;
    private readonly LocalFederation _federation = fixture.Federation;

    private ITransferProbeGrain Hungarian => _federation.Grains.GetGrain<ITransferProbeGrain>("HU/probe");

    private ITransferProbeGrain Swiss => _federation.Grains.GetGrain<ITransferProbeGrain>("CH/probe");

    /// <summary>Every chunk call of these tests lands on the CH silo: it holds what is read and receives what is pushed.</summary>
    private ChunkCallCounter SwissChunkCalls =>
        _federation.ServicesOf("CH").GetServices<IIncomingGrainCallFilter>().OfType<ChunkCallCounter>().Single();

    private PayloadTransfers Transfers => _federation.ServicesOf("HU").GetRequiredService<PayloadTransfers>();

    [Fact]
    public async Task A_100_MiB_payload_goes_both_ways_between_two_silos_in_chunks_under_a_16_MiB_message_limit()
    {
        Assert.Equal("HU", await Hungarian.HostCountry());
        Assert.Equal("CH", await Swiss.HostCountry());
        int chunks = (Large + ChunkSize - 1) / ChunkSize;

        int before = SwissChunkCalls.Count;
        var fetched = await Hungarian.FetchFrom("CH/probe", Large, seed: 1);
        Assert.Equal(TransferProbeGrain.Sha256Of(TransferProbeGrain.Bytes(Large, 1)), fetched.Sha256);
        Assert.Equal(chunks, SwissChunkCalls.Count - before);

        before = SwissChunkCalls.Count;
        var pushed = await Hungarian.PushTo("CH/probe", Large, seed: 2);
        Assert.Equal(TransferProbeGrain.Sha256Of(TransferProbeGrain.Bytes(Large, 2)), pushed.Sha256);
        Assert.Equal(chunks, SwissChunkCalls.Count - before);

        output.WriteLine($"CH → HU (fetch): {Rate(fetched)}; HU → CH (push and take): {Rate(pushed)}");
    }

    [Fact]
    public async Task The_same_payload_sent_inline_in_one_message_fails()
    {
        // Orleans 10.4 will not write the message and closes the connection between the silos: the caller sees
        // SiloUnavailableException, and so would any other call in flight on that connection.
        var sent = Hungarian.SendInlineTo("CH/probe", Large, seed: 3);
        var failure = await Record.ExceptionAsync(() => sent.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.NotNull(failure);
        Assert.IsNotType<TimeoutException>(failure);
        output.WriteLine($"{failure.GetType().Name}: {failure.Message}");
    }

    [Fact]
    public async Task Small_payloads_travel_inline_without_chunk_calls()
    {
        int before = SwissChunkCalls.Count;
        var small = await Swiss.Produce(1000, seed: 4);
        Assert.Null(small.Reference);
        Assert.Equal(TransferProbeGrain.Bytes(1000, 4), small.Inline);

        int inlineLimit = TransferFederation.Options.InlineLimit;
        var fetched = await Hungarian.FetchFrom("CH/probe", inlineLimit, seed: 5);
        Assert.Equal(TransferProbeGrain.Sha256Of(TransferProbeGrain.Bytes(inlineLimit, 5)), fetched.Sha256);
        var pushed = await Hungarian.PushTo("CH/probe", inlineLimit, seed: 6);
        Assert.Equal(TransferProbeGrain.Sha256Of(TransferProbeGrain.Bytes(inlineLimit, 6)), pushed.Sha256);
        Assert.Equal(before, SwissChunkCalls.Count);

        Assert.NotNull((await Swiss.Produce(inlineLimit + 1, seed: 7)).Reference); // one byte more is a transfer
    }

    [Fact]
    public async Task A_tampered_chunk_or_a_reference_with_another_hash_is_refused()
    {
        var bytes = TransferProbeGrain.Bytes(20 * 1024 * 1024, seed: 8);
        var reference = ReferenceTo(Swiss, bytes);
        await PushChunksAsync(reference, bytes, tamper: chunk => chunk[^1] ^= 1);
        var taken = await Assert.ThrowsAsync<FederationOperationException>(() => Swiss.Consume(Payload.OfReference(reference)));
        Assert.Equal("transfer.hash-mismatch", taken.Code);
        Assert.Contains(reference.TransferId.ToString(), taken.Message);

        var offered = (await Swiss.Produce(20 * 1024 * 1024, seed: 9)).Reference!;
        var forged = offered with { Sha256 = SHA256.HashData(bytes) };
        var fetched = await Assert.ThrowsAsync<FederationOperationException>(() => Transfers.FetchAsync(Payload.OfReference(forged)));
        Assert.Equal("transfer.hash-mismatch", fetched.Code);
        Assert.Contains(offered.TransferId.ToString(), fetched.Message);
    }

    [Fact]
    public async Task A_chunk_out_of_range_a_chunk_of_the_wrong_length_or_a_wrong_total_length_is_refused()
    {
        var bytes = TransferProbeGrain.Bytes(20 * 1024 * 1024, seed: 10);
        var reference = ReferenceTo(Swiss, bytes);
        var sink = Swiss.AsReference<IPayloadTransferExtension>();
        var outOfRange = await Assert.ThrowsAsync<FederationOperationException>(() => sink.WriteChunk(reference, 3, new byte[ChunkSize]));
        Assert.Equal("transfer.chunk-out-of-range", outOfRange.Code);
        Assert.Contains($"Payload transfer {reference.TransferId}", outOfRange.Message);
        Assert.Contains("chunk 3 is out of range: it has chunks 0 to 2", outOfRange.Message);
        var shortChunk = await Assert.ThrowsAsync<FederationOperationException>(() => sink.WriteChunk(reference, 0, new byte[ChunkSize - 1]));
        Assert.Equal("transfer.chunk-length", shortChunk.Code);

        await PushChunksAsync(reference, bytes);
        var shorter = reference with { Length = reference.Length - 1 };
        var wrongLength = await Assert.ThrowsAsync<FederationOperationException>(() => Swiss.Consume(Payload.OfReference(shorter)));
        Assert.Equal("transfer.reference-mismatch", wrongLength.Code);
        Assert.Equal(TransferProbeGrain.Sha256Of(bytes), (await Swiss.Consume(Payload.OfReference(reference))).Sha256); // the right one still works

        var offered = (await Swiss.Produce(20 * 1024 * 1024, seed: 11)).Reference!;
        var source = _federation.Grains.GetGrain<IPayloadTransferExtension>(offered.Holder);
        Assert.Equal("transfer.chunk-out-of-range", (await Assert.ThrowsAsync<FederationOperationException>(() => source.ReadChunk(offered.TransferId, -1))).Code);
        Assert.Equal("transfer.chunk-out-of-range", (await Assert.ThrowsAsync<FederationOperationException>(() => source.ReadChunk(offered.TransferId, 3))).Code);
    }

    [Fact]
    public async Task Expired_and_unknown_transfers_fail_with_a_clear_error()
    {
        var offered = await Swiss.Produce(2 * 1024 * 1024, seed: 12);
        var bytes = TransferProbeGrain.Bytes(20 * 1024 * 1024, seed: 13);
        var partial = ReferenceTo(Swiss, bytes);
        var sink = Swiss.AsReference<IPayloadTransferExtension>();
        await sink.WriteChunk(partial, 0, bytes[..ChunkSize]);

        await Task.Delay(TransferFederation.Expiry + TimeSpan.FromSeconds(1.5));

        var fetch = await Assert.ThrowsAsync<FederationOperationException>(() => Transfers.FetchAsync(offered));
        Assert.Equal("transfer.ended", fetch.Code);
        Assert.Contains($"{offered.Reference!.TransferId} at grain {offered.Reference.Holder}: it is no longer held: it expired after 00:00:05", fetch.Message);
        var take = await Assert.ThrowsAsync<FederationOperationException>(() => Swiss.Consume(Payload.OfReference(partial)));
        Assert.Contains("it expired after", take.Message);
        var late = await Assert.ThrowsAsync<FederationOperationException>(() => sink.WriteChunk(partial, 1, bytes[ChunkSize..(2 * ChunkSize)]));
        Assert.Contains("no more chunks are accepted: it expired after", late.Message);

        var unknown = await Assert.ThrowsAsync<FederationOperationException>(() =>
            _federation.Grains.GetGrain<IPayloadTransferExtension>(offered.Reference.Holder).ReadChunk(Guid.Empty, 0));
        Assert.Equal("transfer.unknown", unknown.Code);
    }

    [Fact]
    public async Task A_silo_whose_chunks_do_not_fit_its_message_limit_does_not_start()
    {
        using var dir = new TempDirectory("federation-transfer-limit");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => LocalFederation.StartAsync(TestFederations.Options(dir.Path, "HU") with
        {
            MaxMessageBodySize = 16 * 1024 * 1024,
            Transfer = new PayloadTransferOptions { ChunkSize = 16 * 1024 * 1024 },
        }));
        Assert.Contains("do not fit the silo's message body limit of 16777216 bytes", refused.ToString());
    }

    private static PayloadReference ReferenceTo(IAddressable holder, byte[] bytes) =>
        new(Guid.NewGuid(), holder.GetGrainId(), bytes.Length, ChunkSize, SHA256.HashData(bytes));

    /// <summary>Pushes the chunks as <see cref="PayloadTransfers.PushAsync"/> does, letting the test change them on the way.</summary>
    private async Task PushChunksAsync(PayloadReference reference, byte[] bytes, Action<byte[]>? tamper = null)
    {
        var sink = Swiss.AsReference<IPayloadTransferExtension>();
        for (int i = 0; i < reference.ChunkCount; i++)
        {
            var chunk = bytes.AsSpan(reference.ChunkOffset(i), reference.ChunkLength(i)).ToArray();
            if (i == 0)
                tamper?.Invoke(chunk);
            await sink.WriteChunk(reference, i, chunk);
        }
    }

    private static string Rate(ProbeReceipt receipt) =>
        $"{Large / 1e6 / receipt.Elapsed.TotalSeconds:F0} MB/s ({receipt.Elapsed.TotalMilliseconds:F0} ms for {Large / 1e6:F0} MB)";
}
