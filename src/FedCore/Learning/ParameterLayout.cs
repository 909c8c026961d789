using System.Collections.Immutable;
using System.Text;

namespace FedCore.Learning;

/// <summary>One trainable tensor's place in the flat parameter vector.</summary>
/// <param name="Name">Torch's dotted name, e.g. <c>conv1.weight</c>.</param>
/// <param name="Shape">Tensor shape; values are stored row-major (last index fastest).</param>
/// <param name="Offset">Index of the tensor's first value in the vector.</param>
/// <param name="Length">Number of values (product of the shape).</param>
public sealed record ParameterTensor(string Name, ImmutableArray<long> Shape, int Offset, int Length)
{
    public override string ToString() => $"{Name} [{string.Join("×", Shape)}] at {Offset}, {Length} values";
}

/// <summary>
/// How a model's trainable parameters are laid out in one float vector — the form in which updates are
/// clipped, encrypted, aggregated and published.
/// <para>
/// Order: the tensors in the order <c>Module.named_parameters()</c> yields them, i.e. layer registration
/// order (input side first) and within a layer weight before bias; each tensor row-major. For a Linear
/// layer the weight is [outputs, inputs]; for a convolution [out channels, in channels, 5, 5].
/// The layout depends only on the <see cref="ModelSpec"/>, so every participant computes the same one.
/// </para>
/// </summary>
public sealed class ParameterLayout
{
    private ParameterLayout(ModelSpec spec, ImmutableArray<ParameterTensor> tensors, int totalLength)
    {
        Spec = spec;
        Tensors = tensors;
        TotalLength = totalLength;
    }

    public ModelSpec Spec { get; }

    public ImmutableArray<ParameterTensor> Tensors { get; }

    /// <summary>Length of the parameter vector.</summary>
    public int TotalLength { get; }

    public static ParameterLayout For(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var tensors = ImmutableArray.CreateBuilder<ParameterTensor>();
        int offset = 0;
        foreach (var layer in ModelArchitecture.Layers(spec))
            foreach (var (name, shape) in layer.ParameterShapes)
            {
                // ModelSpec validation caps the total at Array.MaxLength, so these fit in int.
                int length = (int)shape.Aggregate(1L, (product, dim) => product * dim);
                tensors.Add(new ParameterTensor($"{layer.Name}.{name}", [.. shape], offset, length));
                offset += length;
            }
        return new ParameterLayout(spec, tensors.ToImmutable(), offset);
    }

    /// <summary>Throws unless <paramref name="vector"/> has exactly <see cref="TotalLength"/> values, all finite.</summary>
    /// <param name="parameterName">The caller's argument name, quoted in the exception.</param>
    public void Validate(ReadOnlySpan<float> vector, string parameterName)
    {
        if (vector.Length != TotalLength)
            throw new ArgumentException(
                $"The parameter vector has {vector.Length} values but model {Spec.ToJson()} has {TotalLength}:{Environment.NewLine}{this}",
                parameterName);
        for (int i = 0; i < vector.Length; i++)
            if (!float.IsFinite(vector[i]))
                throw new ArgumentException(
                    $"The parameter vector holds {vector[i]} at index {i} ({Locate(i)}); parameters must be finite.",
                    parameterName);
    }

    /// <summary>Which tensor and element a vector index belongs to, e.g. <c>fc1.weight[3, 17]</c>.</summary>
    public string Locate(int index)
    {
        foreach (var tensor in Tensors)
        {
            if (index < tensor.Offset || index >= tensor.Offset + tensor.Length)
                continue;
            long remainder = index - tensor.Offset;
            var coordinates = new long[tensor.Shape.Length];
            for (int d = tensor.Shape.Length - 1; d >= 0; d--)
            {
                coordinates[d] = remainder % tensor.Shape[d];
                remainder /= tensor.Shape[d];
            }
            return $"{tensor.Name}[{string.Join(", ", coordinates)}]";
        }
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Outside the parameter vector of length {TotalLength}.");
    }

    /// <summary>One line per tensor: name, shape, offset, length; then the total.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var tensor in Tensors)
            text.AppendLine($"  {tensor}");
        text.Append($"  total {TotalLength} values");
        return text.ToString();
    }
}
