using FedCore.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCore.Learning;

/// <summary>
/// The layer list a <see cref="ModelSpec"/> stands for. It is the single source of the parameter layout,
/// the initial values and the Torch module, so the three cannot drift apart. Every model maps a batch
/// [N, Inputs] to [N, OutputCount].
/// </summary>
internal static class ModelArchitecture
{
    /// <summary>LeNet-style convolutions: 5×5 kernels with "same" padding, so only the 2×2 poolings shrink the image.</summary>
    public const int ConvKernel = 5;
    public const int ConvPadding = ConvKernel / 2;
    public const int PoolSize = 2;
    public const int ConvChannels1 = 6;
    public const int ConvChannels2 = 16;
    public const int CnnHidden1 = 120;
    public const int CnnHidden2 = 84;

    public static IReadOnlyList<LayerPlan> Layers(ModelSpec spec)
    {
        var layers = new List<LayerPlan>();
        switch (spec.Kind)
        {
            case ModelKind.Linear:
            case ModelKind.Logistic:
            case ModelKind.Svm:
                layers.Add(new LinearLayer("linear", spec.Inputs, spec.OutputCount));
                break;

            case ModelKind.Mlp:
            {
                int width = spec.Inputs;
                for (int i = 0; i < spec.Hidden.Length; i++)
                {
                    AddHidden(layers, spec, $"hidden{i + 1}", width, spec.Hidden[i], $"{i + 1}");
                    width = spec.Hidden[i];
                }
                layers.Add(new LinearLayer("output", width, spec.OutputCount));
                break;
            }

            case ModelKind.Cnn:
            {
                var image = spec.Image!;
                var activation = spec.Activation!.Value;
                layers.Add(new UnflattenLayer("image", image));
                layers.Add(new ConvLayer("conv1", image.Channels, ConvChannels1));
                layers.Add(new ActivationLayer("act_conv1", activation));
                layers.Add(new MaxPoolLayer("pool1"));
                layers.Add(new ConvLayer("conv2", ConvChannels1, ConvChannels2));
                layers.Add(new ActivationLayer("act_conv2", activation));
                layers.Add(new MaxPoolLayer("pool2"));
                layers.Add(new FlattenLayer("flatten"));
                int flattened = checked(ConvChannels2 * (image.Height / PoolSize / PoolSize) * (image.Width / PoolSize / PoolSize));
                AddHidden(layers, spec, "fc1", flattened, CnnHidden1, "fc1");
                AddHidden(layers, spec, "fc2", CnnHidden1, CnnHidden2, "fc2");
                layers.Add(new LinearLayer("output", CnnHidden2, spec.OutputCount));
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown model kind.");
        }
        return layers;
    }

    /// <summary>Trainable values the spec's model holds; saturates instead of overflowing for absurd sizes.</summary>
    public static long CountParameters(ModelSpec spec)
    {
        try
        {
            long total = 0;
            foreach (var layer in Layers(spec))
                foreach (var (_, shape) in layer.ParameterShapes)
                    total = checked(total + shape.Aggregate(1L, (product, dim) => checked(product * dim)));
            return total;
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>
    /// Builds the Torch module on the CPU. Dropout layers draw their masks from <paramref name="dropoutNoise"/>
    /// (so training is reproducible); without one they use Torch's global generator.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<LayerPlan> layers, Generator? dropoutNoise) =>
        nn.Sequential(layers.Select(layer => (layer.Name, layer.Build(dropoutNoise))).ToArray());

    private static void AddHidden(List<LayerPlan> layers, ModelSpec spec, string name, int inputs, int outputs, string suffix)
    {
        layers.Add(new LinearLayer(name, inputs, outputs));
        layers.Add(new ActivationLayer($"act_{suffix}", spec.Activation!.Value));
        if (spec.Dropout > 0)
            layers.Add(new DropoutLayer($"dropout_{suffix}", spec.Dropout));
    }
}

internal abstract record LayerPlan(string Name)
{
    /// <summary>Trainable tensors in the order Torch registers them (weight, then bias), names relative to the layer.</summary>
    public virtual IEnumerable<(string Name, long[] Shape)> ParameterShapes => [];

    /// <summary>Inputs feeding one output unit; sets the initialisation bound 1/√fan_in.</summary>
    public virtual long FanIn => 0;

    public abstract nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise);
}

internal sealed record LinearLayer(string Name, int Inputs, int Outputs) : LayerPlan(Name)
{
    public override IEnumerable<(string Name, long[] Shape)> ParameterShapes => [("weight", [Outputs, Inputs]), ("bias", [Outputs])];

    public override long FanIn => Inputs;

    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) => nn.Linear(Inputs, Outputs);
}

internal sealed record ConvLayer(string Name, int InChannels, int OutChannels) : LayerPlan(Name)
{
    private const int Kernel = ModelArchitecture.ConvKernel;

    public override IEnumerable<(string Name, long[] Shape)> ParameterShapes =>
        [("weight", [OutChannels, InChannels, Kernel, Kernel]), ("bias", [OutChannels])];

    public override long FanIn => (long)InChannels * Kernel * Kernel;

    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) =>
        nn.Conv2d(InChannels, OutChannels, Kernel, padding: ModelArchitecture.ConvPadding);
}

internal sealed record MaxPoolLayer(string Name) : LayerPlan(Name)
{
    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) => nn.MaxPool2d(ModelArchitecture.PoolSize);
}

internal sealed record ActivationLayer(string Name, Activation Function) : LayerPlan(Name)
{
    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) => Function switch
    {
        Activation.Relu => nn.ReLU(),
        Activation.Tanh => nn.Tanh(),
        Activation.Sigmoid => nn.Sigmoid(),
        _ => throw new ArgumentOutOfRangeException(nameof(Function), Function, "Unknown activation."),
    };
}

internal sealed record DropoutLayer(string Name, double Probability) : LayerPlan(Name)
{
    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) => new SeededDropout(Probability, dropoutNoise);
}

/// <summary>Turns a row of pixel columns into a channels×height×width image.</summary>
internal sealed record UnflattenLayer(string Name, ImageShape Image) : LayerPlan(Name)
{
    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) =>
        nn.Unflatten(1, [Image.Channels, Image.Height, Image.Width]);
}

internal sealed record FlattenLayer(string Name) : LayerPlan(Name)
{
    public override nn.Module<Tensor, Tensor> Build(Generator? dropoutNoise) => nn.Flatten();
}
