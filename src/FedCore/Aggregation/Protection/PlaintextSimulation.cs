using System.Buffers.Binary;

namespace FedCore.Aggregation.Protection;

/// <summary>
/// Aggregation WITHOUT encryption, for simulation and debugging only: the "sealed" update is the weighted
/// update in the clear, so the aggregator sees every participant's update. Hosts must log each use.
/// Format: "PTS1", int32 length, float64 weight, then length float64 values of weight·update.
/// </summary>
public sealed class PlaintextSimulation : IUpdateProtection
{
    public const string SchemeName = "plaintext-simulation";
    private static ReadOnlySpan<byte> Magic => "PTS1"u8;
    private const int HeaderLength = 4 + 4 + 8;

    public string Scheme => SchemeName;

    public bool ProtectsUpdates => false;

    public RoundKeyShare CreateKeyShare(ReadOnlySpan<byte> roundSeed) => new([], []);

    public byte[] CombineKeyShares(IReadOnlyList<byte[]> publicShares, byte[]? ownSecret = null) => [];

    public long MaxValuesPerRound(int participants) => int.MaxValue;

    public SealedUpdate Seal(ReadOnlySpan<float> update, double weight, byte[] roundKey)
    {
        if (!(weight > 0) || double.IsInfinity(weight))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "An update's weight must be a positive number.");
        var values = new double[update.Length];
        for (int i = 0; i < values.Length; i++)
            values[i] = weight * update[i];
        var bytes = Write(values, weight);
        return new SealedUpdate(bytes, Commit(bytes));
    }

    /// <summary>SHA-256 of the payload (the simulation has no masks, so no sketch).</summary>
    private static byte[] Commit(byte[] sealedUpdate) => System.Security.Cryptography.SHA256.HashData(sealedUpdate);

    public ISealedAggregate NewAggregate(byte[] roundKey) => new Sum();

    /// <summary>Nothing to decrypt: in the simulation the aggregator sees every update anyway.</summary>
    public byte[] DecryptionShare(byte[] decryptionInput, byte[] roundKey, byte[] secret, IReadOnlyList<byte[]> commitments) => [];

    private static byte[] Write(double[] values, double weight)
    {
        var bytes = new byte[HeaderLength + 8 * values.Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), values.Length);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8), weight);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(HeaderLength + 8 * i), values[i]);
        return bytes;
    }

    private static (double[] Values, double Weight) Read(byte[] bytes, string what)
    {
        if (bytes.Length < HeaderLength || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
            throw new SealedUpdateFormatException($"{SchemeName}: {what} is not a plaintext-simulation payload (bad header).");
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        if (length < 0 || (long)HeaderLength + 8L * length != bytes.Length)
            throw new SealedUpdateFormatException(
                $"{SchemeName}: {what} declares {length} values but carries {bytes.Length - HeaderLength} bytes of them.");
        double weight = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8));
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(HeaderLength + 8 * i));
        return (values, weight);
    }

    private sealed class Sum : ISealedAggregate
    {
        private readonly Lock _lock = new();
        private double[]? _values;
        private double _weight;

        public int Count { get; private set; }

        public byte[] Add(string contributor, byte[] sealedUpdate)
        {
            var (values, weight) = Read(sealedUpdate, $"sealed update from {contributor}");
            lock (_lock)
            {
                if (_values is null)
                    _values = values;
                else if (values.Length != _values.Length)
                    throw new SealedUpdateFormatException($"{SchemeName}: sealed update from {contributor} has {values.Length} values; the sum has {_values.Length}.");
                else
                    for (int i = 0; i < _values.Length; i++)
                        _values[i] += values[i];
                _weight += weight;
                Count++;
            }
            return Commit(sealedUpdate);
        }

        public byte[] DecryptionInput() => [];

        public AggregatedUpdate Open(IReadOnlyList<byte[]> shares)
        {
            lock (_lock)
                return _values is null ? throw new InvalidOperationException("Nothing was added.") : new AggregatedUpdate(_values, _weight);
        }
    }
}
