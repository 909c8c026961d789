using FedCore.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>Builds models from specs, with initial parameters that depend only on the spec and a seed.</summary>
public static class ModelFactory
{
    /// <summary>
    /// The initial parameter vector for <paramref name="spec"/>: every tensor of a layer drawn uniformly from
    /// [−1/√fan_in, 1/√fan_in) (PyTorch's default for Linear and Conv2d), in <see cref="ParameterLayout"/> order,
    /// from SplitMix64 seeded with <paramref name="seed"/> (one 64-bit draw per value, top 53 bits as a fraction).
    /// Computed in managed code, so it is bit-identical on every machine and device and needs no native library.
    /// </summary>
    public static float[] InitialParameters(ModelSpec spec, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var values = new float[ParameterLayout.For(spec).TotalLength];
        var random = new SplitMix64((ulong)seed);
        int offset = 0;
        foreach (var layer in ModelArchitecture.Layers(spec))
        {
            double bound = layer.FanIn > 0 ? 1 / Math.Sqrt(layer.FanIn) : 0;
            foreach (var (_, shape) in layer.ParameterShapes)
            {
                long length = shape.Aggregate(1L, (product, dim) => product * dim);
                for (long k = 0; k < length; k++)
                    values[offset++] = (float)((2 * UnitInterval(random.Next()) - 1) * bound);
            }
        }
        return values;
    }

    /// <summary>Maps 64 random bits to [0, 1) using the top 53, the precision of a double.</summary>
    internal static double UnitInterval(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>A model with <see cref="InitialParameters"/> for the seed, on <paramref name="device"/> (default <see cref="TorchDevices.Current"/>).</summary>
    public static TorchModel Create(ModelSpec spec, long seed, Device? device = null) =>
        Create(spec, InitialParameters(spec, seed), device, dropoutNoise: null);

    /// <summary>A model holding the given parameter vector, on <paramref name="device"/> (default <see cref="TorchDevices.Current"/>).</summary>
    /// <exception cref="ArgumentException">The vector's length does not match the spec's layout, or it holds a non-finite value.</exception>
    public static TorchModel Create(ModelSpec spec, ReadOnlySpan<float> parameters, Device? device = null) =>
        Create(spec, parameters, device, dropoutNoise: null);

    /// <summary>A model of <paramref name="spec"/>, on the CPU, with the parameters a <see cref="TorchModel.Save"/> wrote to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The file is not a TorchSharp state dict of exactly this architecture's tensors.</exception>
    public static TorchModel Load(ModelSpec spec, string path)
    {
        var model = Create(spec, new float[ParameterLayout.For(spec).TotalLength], torch.CPU);
        try
        {
            model.Module.load(path, strict: true);
            return model;
        }
        catch (Exception e)
        {
            model.Dispose();
            throw new ArgumentException($"{path} does not hold the weights of model {spec.ToJson()}: {e.Message}", nameof(path), e);
        }
    }

    /// <param name="dropoutNoise">Generator for dropout masks, on the model's device; null uses Torch's global one.</param>
    internal static TorchModel Create(ModelSpec spec, ReadOnlySpan<float> parameters, Device? device, Generator? dropoutNoise)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var layout = ParameterLayout.For(spec);
        layout.Validate(parameters, nameof(parameters));
        device ??= TorchDevices.Current;
        var module = ModelArchitecture.Build(ModelArchitecture.Layers(spec), dropoutNoise);
        try
        {
            module.to(device);
            // The model owns its parameters: a dispose scope the caller happens to have open must not free them.
            foreach (var (_, parameter) in module.named_parameters())
                parameter.DetachFromDisposeScope();
            var model = new TorchModel(spec, layout, module, device);
            model.SetParameters(parameters);
            return model;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }
}
