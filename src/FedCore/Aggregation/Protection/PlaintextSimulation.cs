using System.Buffers.Binary;

namespace FedCore.Aggregation.Protection;

/// <summary>
/// Aggregation WITHOUT encryption, for simulation and debugging only: the "sealed" update is the weighted update in the
/// clear, so the aggregator sees every participant's update. A participant seals this way only where the job's terms and
/// its own silo both allow simulation; hosts log each use.
/// Format: "PTS1", int32 length, float64 weight, then length float64 values of weight·update.
/// </summary>
public static class PlaintextSimulation
{
    public const string SchemeName = "plaintext-simulation";
    private static ReadOnlySpan<byte> Magic => "PTS1"u8;
    private const int HeaderLength = 4 + 4 + 8;

    public static byte[] Seal(ReadOnlySpan<float> update, double weight)
    {
        if (!(weight > 0) || double.IsInfinity(weight))
            throw new UpdateOutOfBoundsException($"An update's weight must be a positive number, not {weight}.");
        var bytes = new byte[HeaderLength + 8 * update.Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), update.Length);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8), weight);
        for (int i = 0; i < update.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(HeaderLength + 8 * i), weight * update[i]);
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

    /// <summary>The aggregator's running sum of plaintext updates (thread-safe).</summary>
    public sealed class Aggregate
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _contributors = [];
        private double[]? _values;
        private double _weight;

        public void Add(string contributor, byte[] sealedUpdate)
        {
            var (values, weight) = Read(sealedUpdate, $"sealed update from {contributor}");
            lock (_lock)
            {
                if (_values is not null && values.Length != _values.Length)
                    throw new SealedUpdateFormatException($"{SchemeName}: sealed update from {contributor} has {values.Length} values; the sum has {_values.Length}.");
                if (!_contributors.Add(contributor))
                    throw new SealedUpdateFormatException($"{SchemeName}: a second sealed update from {contributor}.");
                if (_values is null)
                    _values = values;
                else
                    for (int i = 0; i < _values.Length; i++)
                        _values[i] += values[i];
                _weight += weight;
            }
        }

        public AggregatedUpdate Open()
        {
            lock (_lock)
                return _values is null ? throw new InvalidOperationException("Nothing was added.") : new AggregatedUpdate(_values, _weight);
        }
    }
}
