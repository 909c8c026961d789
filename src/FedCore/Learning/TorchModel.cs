using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// A Torch module built from a <see cref="ModelSpec"/>, with its parameters readable and writable as one
/// flat vector in <see cref="Layout"/> order. Owns the module: dispose it to free native memory.
/// </summary>
public sealed class TorchModel : IDisposable
{
    private readonly Parameter[] parameters;

    internal TorchModel(ModelSpec spec, ParameterLayout layout, nn.Module<Tensor, Tensor> module, Device device)
    {
        Spec = spec;
        Layout = layout;
        Module = module;
        Device = device;
        var named = module.named_parameters().ToArray();
        // The layout is derived from the spec without Torch; this check ties it to what Torch actually built.
        if (named.Length != layout.Tensors.Length)
            throw new InvalidOperationException(
                $"Torch built {named.Length} parameter tensors for {spec.ToJson()} but the layout lists {layout.Tensors.Length}.");
        for (int i = 0; i < named.Length; i++)
        {
            var expected = layout.Tensors[i];
            var (name, parameter) = named[i];
            if (name != expected.Name || !parameter.shape.SequenceEqual(expected.Shape))
                throw new InvalidOperationException(
                    $"Torch parameter {i} is {name} [{string.Join("×", parameter.shape)}] but the layout expects {expected}.");
        }
        parameters = [.. named.Select(n => n.parameter)];
    }

    public ModelSpec Spec { get; }

    public ParameterLayout Layout { get; }

    public Device Device { get; }

    /// <summary>Maps a float batch [N, Spec.Inputs] on <see cref="Device"/> to [N, Spec.OutputCount].</summary>
    public nn.Module<Tensor, Tensor> Module { get; }

    internal IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The current parameters as one vector in <see cref="Layout"/> order.</summary>
    public float[] GetParameters()
    {
        if (Device.type == DeviceType.CPU)
        {
            // Straight out of each tensor's memory: a model-sized copy, where the tensor route makes three.
            var values = new float[Layout.TotalLength];
            for (int i = 0; i < parameters.Length; i++)
                CpuValues(parameters[i]).CopyTo(values.AsSpan(Layout.Tensors[i].Offset, Layout.Tensors[i].Length));
            return values;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = cat(parameters.Select(p => p.detach().reshape(-1)).ToArray(), 0).cpu();
        return flat.data<float>().ToArray();
    }

    /// <summary>
    /// Overwrites every parameter from a vector in <see cref="Layout"/> order. On the CPU it writes the tensors' memory in
    /// place, past Torch's autograd version counter: call it on a model no forward pass has used since its last backward
    /// pass (today only <see cref="ModelFactory"/>, on a fresh model).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong length or a non-finite value; the message shows the layout.</exception>
    public void SetParameters(ReadOnlySpan<float> values)
    {
        Layout.Validate(values, nameof(values));
        using var noGrad = no_grad();
        if (Device.type == DeviceType.CPU)
        {
            // Straight into each tensor's memory; the tensor route copies the model three times, into fresh memory each time.
            for (int i = 0; i < parameters.Length; i++)
                values.Slice(Layout.Tensors[i].Offset, Layout.Tensors[i].Length).CopyTo(CpuValues(parameters[i]));
            return;
        }
        using var scope = NewDisposeScope();
        var flat = tensor(values.ToArray(), device: Device);
        for (int i = 0; i < parameters.Length; i++)
        {
            var slot = Layout.Tensors[i];
            parameters[i].copy_(flat.narrow(0, slot.Offset, slot.Length).view([.. slot.Shape]));
        }
    }

    /// <summary>A CPU parameter's values in place.</summary>
    private static Span<float> CpuValues(Parameter parameter) =>
        parameter.dtype == ScalarType.Float32 && parameter.is_contiguous()
            ? MemoryMarshal.Cast<byte, float>(parameter.bytes)
            : throw new InvalidOperationException($"Torch built a {parameter.dtype} parameter{(parameter.is_contiguous() ? "" : " that is not contiguous")}; models here hold contiguous float32 tensors.");

    /// <summary>
    /// Writes the parameters to <paramref name="path"/> in TorchSharp's state-dict format (<c>Module.save</c>): a model built
    /// from the same spec reads them back with <see cref="ModelFactory.Load"/>, or with <c>Module.load</c> in any TorchSharp program.
    /// </summary>
    public void Save(string path) => Module.save(path);

    public void Dispose() => Module.Dispose();
}
