using System.Security.Cryptography;
using Federation.Contracts.Errors;
using Federation.Contracts.Transfer;

namespace Federation.Silo.Transfer;

/// <summary>
/// One grain activation's payload transfers: bytes it offered, until every chunk was read; bytes pushed to it, until
/// the grain takes them. Either is released after <see cref="PayloadTransferOptions.Expiry"/> without a chunk read or
/// written, or when the activation ends. Released buffers are cleared.
/// </summary>
internal sealed class PayloadTransferExtension : IPayloadTransferExtension, IDisposable
{
    /// <summary>How many ended transfers are remembered, to tell a caller why one is gone.</summary>
    private const int RememberedEnds = 256;

    private readonly GrainId _holder;
    private readonly PayloadTransferOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Transfer> _transfers = [];
    private readonly Dictionary<Guid, string> _endings = [];
    private readonly Queue<Guid> _endingOrder = new();

    // Orleans creates the extension on the activation it serves, so the current grain context is the holder (as in Orleans' own extensions).
    public PayloadTransferExtension(IGrainContextAccessor grainContext, PayloadTransferOptions options, TimeProvider time)
    {
        _holder = grainContext.GrainContext.GrainId;
        _options = options;
        _time = time;
    }

    /// <summary>Keeps a copy of <paramref name="bytes"/> for callers to read in chunks.</summary>
    public PayloadReference Offer(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        var reference = new PayloadReference(Guid.NewGuid(), _holder, copy.Length, _options.ChunkSize, SHA256.HashData(copy));
        lock (_lock)
            Start(reference, copy, offered: true);
        return reference;
    }

    public Task<byte[]> ReadChunk(Guid transferId, int index)
    {
        lock (_lock)
        {
            var transfer = Find(transferId);
            if (!transfer.Offered)
                throw Error("transfer.not-offered", transferId, "it was pushed to this grain, which takes it; it cannot be read back");
            CheckIndex(transfer.Reference, index);
            var chunk = transfer.Buffer.AsSpan(transfer.Reference.ChunkOffset(index), transfer.Reference.ChunkLength(index)).ToArray();
            if (transfer.Complete(index, _time.GetUtcNow()))
                End(transferId, "it was read completely");
            return Task.FromResult(chunk);
        }
    }

    public Task WriteChunk(PayloadReference reference, int index, byte[] chunk)
    {
        lock (_lock)
        {
            if (_transfers.TryGetValue(reference.TransferId, out var transfer))
                CheckPushed(transfer, reference);
            else if (_endings.TryGetValue(reference.TransferId, out var ending))
                throw Error("transfer.ended", reference.TransferId, $"no more chunks are accepted: {ending}");
            else
                CheckNewReference(reference);
            CheckIndex(reference, index);
            if (chunk.Length != reference.ChunkLength(index))
                throw Error("transfer.chunk-length", reference.TransferId,
                    $"chunk {index} has {chunk.Length} bytes, but a payload of {reference.Length} bytes in chunks of {reference.ChunkSize} has {reference.ChunkLength(index)} there");
            transfer ??= Start(reference, new byte[reference.Length], offered: false);
            chunk.CopyTo(transfer.Buffer, reference.ChunkOffset(index));
            transfer.Complete(index, _time.GetUtcNow());
        }
        return Task.CompletedTask;
    }

    /// <summary>The bytes pushed for <paramref name="reference"/>, once all arrived and their hash matches; they are the caller's now.</summary>
    public byte[] Take(PayloadReference reference)
    {
        if (reference.Holder != _holder)
            throw Error("transfer.wrong-holder", reference.TransferId, $"it was pushed to {reference.Holder}, not to this grain");
        Transfer transfer;
        lock (_lock)
        {
            transfer = Find(reference.TransferId);
            CheckPushed(transfer, reference);
            if (transfer.RemainingChunks > 0)
                throw Error("transfer.incomplete", reference.TransferId,
                    $"only {reference.ChunkCount - transfer.RemainingChunks} of its {reference.ChunkCount} chunks arrived");
            _transfers.Remove(reference.TransferId);
            transfer.Timer.Dispose();
        }
        bool intact = SHA256.HashData(transfer.Buffer).AsSpan().SequenceEqual(reference.Sha256);
        lock (_lock)
            Remember(reference.TransferId, intact ? "the grain took it" : "its bytes failed the hash check and were discarded");
        if (!intact)
        {
            CryptographicOperations.ZeroMemory(transfer.Buffer);
            throw Error("transfer.hash-mismatch", reference.TransferId,
                $"the {reference.Length} bytes that arrived do not have the SHA-256 its reference names; they were discarded");
        }
        return transfer.Buffer;
    }

    public void Dispose()
    {
        lock (_lock)
            foreach (var id in _transfers.Keys.ToList())
                End(id, "its grain activation ended");
    }

    private Transfer Start(PayloadReference reference, byte[] buffer, bool offered)
    {
        var timer = _time.CreateTimer(state => Expire((Guid)state!), reference.TransferId, _options.Expiry, Timeout.InfiniteTimeSpan);
        var transfer = new Transfer(reference, buffer, offered, timer, _time.GetUtcNow());
        _transfers.Add(reference.TransferId, transfer);
        return transfer;
    }

    private void Expire(Guid transferId)
    {
        lock (_lock)
        {
            if (!_transfers.TryGetValue(transferId, out var transfer))
                return;
            var idle = _time.GetUtcNow() - transfer.LastActivity;
            if (idle < _options.Expiry)
                transfer.Timer.Change(_options.Expiry - idle, Timeout.InfiniteTimeSpan);
            else
                End(transferId, $"it expired after {_options.Expiry} without a chunk read or written");
        }
    }

    /// <summary>Releases a transfer and clears its buffer (callers hold the lock).</summary>
    private void End(Guid transferId, string why)
    {
        if (!_transfers.Remove(transferId, out var transfer))
            return;
        transfer.Timer.Dispose();
        CryptographicOperations.ZeroMemory(transfer.Buffer);
        Remember(transferId, why);
    }

    private void Remember(Guid transferId, string why)
    {
        if (_endingOrder.Count == RememberedEnds)
            _endings.Remove(_endingOrder.Dequeue());
        _endings[transferId] = why;
        _endingOrder.Enqueue(transferId);
    }

    private Transfer Find(Guid transferId) =>
        _transfers.TryGetValue(transferId, out var transfer) ? transfer
        : _endings.TryGetValue(transferId, out var ending) ? throw Error("transfer.ended", transferId, $"it is no longer held: {ending}")
        : throw Error("transfer.unknown", transferId,
            $"this activation holds no such transfer (never offered or pushed here, or ended long ago, or the grain was reactivated; transfers expire after {_options.Expiry} idle)");

    private void CheckNewReference(PayloadReference reference)
    {
        if (reference.Holder != _holder)
            throw Error("transfer.wrong-holder", reference.TransferId, $"its reference names {reference.Holder} as the holder");
        if (reference.Length < 0 || reference.ChunkSize <= 0 || reference.Sha256 is not { Length: SHA256.HashSizeInBytes })
            throw Error("transfer.invalid-reference", reference.TransferId,
                $"a reference needs a length ≥ 0, a chunk size > 0 and a 32-byte SHA-256 (got {reference.Length}, {reference.ChunkSize}, {reference.Sha256?.Length ?? 0} bytes)");
    }

    /// <summary>Checks that <paramref name="transfer"/> was pushed here under the same reference.</summary>
    private void CheckPushed(Transfer transfer, PayloadReference reference)
    {
        if (transfer.Offered)
            throw Error("transfer.not-pushed", reference.TransferId, "this grain offered it; others read it, nobody writes or takes it");
        var held = transfer.Reference;
        if (held.Length != reference.Length || held.ChunkSize != reference.ChunkSize || !held.Sha256.AsSpan().SequenceEqual(reference.Sha256))
            throw Error("transfer.reference-mismatch", reference.TransferId,
                $"the reference given ({reference.Length} bytes in chunks of {reference.ChunkSize}) differs from the one it was started with ({held.Length} bytes in chunks of {held.ChunkSize}, or another hash)");
    }

    private void CheckIndex(PayloadReference reference, int index)
    {
        if (index < 0 || index >= reference.ChunkCount)
            throw Error("transfer.chunk-out-of-range", reference.TransferId,
                $"chunk {index} is out of range: it has chunks 0 to {reference.ChunkCount - 1}");
    }

    private FederationOperationException Error(string code, Guid transferId, string what) =>
        new(code, $"Payload transfer {transferId} at grain {_holder}: {what}.");

    private sealed class Transfer(PayloadReference reference, byte[] buffer, bool offered, ITimer timer, DateTimeOffset now)
    {
        private readonly bool[] _done = new bool[reference.ChunkCount];

        public PayloadReference Reference { get; } = reference;

        public byte[] Buffer { get; } = buffer;

        /// <summary>Offered by this grain (read by others) rather than pushed to it (taken by the grain).</summary>
        public bool Offered { get; } = offered;

        public ITimer Timer { get; } = timer;

        public DateTimeOffset LastActivity { get; private set; } = now;

        public int RemainingChunks { get; private set; } = reference.ChunkCount;

        /// <summary>Marks chunk <paramref name="index"/> read or written; true when that was the last one outstanding.</summary>
        public bool Complete(int index, DateTimeOffset now)
        {
            LastActivity = now;
            if (!_done[index])
            {
                _done[index] = true;
                RemainingChunks--;
            }
            return RemainingChunks == 0;
        }
    }
}
