using FedCore.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace FedCore.Learning;

/// <summary>
/// What a model's output means: how labels become loss targets, the per-sample loss, and (for
/// classifiers) the predicted class and, for two classes, the score ranked by AUC. Shared by trainer and
/// evaluator so both compute the same loss. Constants reach Torch as explicit Scalars (see <see cref="Scalars"/>).
/// </summary>
internal abstract class ModelHead
{
    public static ModelHead For(ModelSpec spec) => spec switch
    {
        { IsRegression: true } => new SquaredError(),
        { Kind: ModelKind.Svm, IsBinary: true } => new BinaryHinge(),
        { Kind: ModelKind.Svm } => new MultiMargin(),
        { IsBinary: true } => new BinaryLogistic(),
        _ => new SoftmaxCrossEntropy(),
    };

    /// <summary>Loss targets for all rows, on <paramref name="device"/>; labels were checked by <see cref="CheckData"/>.</summary>
    public abstract Tensor Targets(float[] labels, Device device);

    /// <summary>Loss of each sample, shape [N], from model output [N, OutputCount].</summary>
    public abstract Tensor Losses(Tensor output, Tensor targets);

    /// <summary>Predicted class index of each sample, shape [N] (int64).</summary>
    public abstract Tensor PredictClasses(Tensor output);

    /// <summary>Each sample's probability of each class, shape [N, classes], for heads trained with a probabilistic loss; otherwise null.</summary>
    public virtual Tensor? Probabilities(Tensor output) => null;

    /// <summary>
    /// Throws unless <paramref name="data"/> fits <paramref name="spec"/>: matching column count, at least one row,
    /// finite features, and labels that are class indices 0…classes−1 (classification) or finite (regression).
    /// </summary>
    public static void CheckData(ModelSpec spec, TabularData data, string parameterName)
    {
        CheckFeatures(spec, data, parameterName);
        var labels = data.Labels;
        for (int row = 0; row < labels.Length; row++)
        {
            float label = labels[row];
            if (spec.Classes is { } classes)
            {
                if (!(label >= 0 && label < classes && label == MathF.Floor(label)))
                    throw new ArgumentException(
                        $"Row {row} has label {label}; model {spec.ToJson()} needs a class index 0…{classes - 1}.", parameterName);
            }
            else if (!float.IsFinite(label))
            {
                throw new ArgumentException($"Row {row} has label {label}; regression targets must be finite.", parameterName);
            }
        }
    }

    /// <summary>Throws unless the features of <paramref name="data"/> fit <paramref name="spec"/>: matching column count, at least one row, finite values.</summary>
    public static void CheckFeatures(ModelSpec spec, TabularData data, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(data, parameterName);
        if (data.FeatureCount != spec.Inputs)
        {
            string expected = spec.Image is { } image
                ? $"{spec.Inputs} (pixel columns of a {image.Channels}×{image.Height}×{image.Width} image)"
                : spec.Inputs.ToString();
            throw new ArgumentException($"The data has {data.FeatureCount} feature columns but model {spec.ToJson()} expects {expected}.", parameterName);
        }
        if (data.RowCount == 0)
            throw new ArgumentException("The data has no rows.", parameterName);

        var features = data.Features;
        for (int i = 0; i < features.Length; i++)
            if (!float.IsFinite(features[i]))
                throw new ArgumentException(
                    $"Row {i / data.FeatureCount}, feature '{data.FeatureNames[i % data.FeatureCount]}' is {features[i]}; features must be finite.",
                    parameterName);
    }

    /// <summary>Mean squared error over a single output.</summary>
    private sealed class SquaredError : ModelHead
    {
        public override Tensor Targets(float[] labels, Device device) => tensor(labels, device: device);

        public override Tensor Losses(Tensor output, Tensor targets) => mse_loss(output.squeeze(1), targets, nn.Reduction.None);

        public override Tensor PredictClasses(Tensor output) => throw new InvalidOperationException("A regression model has no classes.");
    }

    /// <summary>One logit; binary cross-entropy on the logit (numerically stable form).</summary>
    private sealed class BinaryLogistic : ModelHead
    {
        public override Tensor Targets(float[] labels, Device device) => tensor(labels, device: device);

        public override Tensor Losses(Tensor output, Tensor targets) =>
            binary_cross_entropy_with_logits(output.squeeze(1), targets, reduction: nn.Reduction.None);

        public override Tensor PredictClasses(Tensor output) => output.squeeze(1).gt(Scalars.Zero).to_type(ScalarType.Int64);

        public override Tensor Probabilities(Tensor output)
        {
            var positive = output.squeeze(1).sigmoid();
            return stack([positive.OneMinus(), positive], 1);
        }
    }

    /// <summary>One logit per class; softmax cross-entropy.</summary>
    private sealed class SoftmaxCrossEntropy : ModelHead
    {
        public override Tensor Targets(float[] labels, Device device) => ClassIndices(labels, device);

        public override Tensor Losses(Tensor output, Tensor targets) => cross_entropy(output, targets, reduction: nn.Reduction.None);

        public override Tensor PredictClasses(Tensor output) => output.argmax(1);

        public override Tensor Probabilities(Tensor output) => output.softmax(1);
    }

    /// <summary>One margin f; hinge loss max(0, 1 − y·f) with labels 0/1 mapped to y = −1/+1.</summary>
    private sealed class BinaryHinge : ModelHead
    {
        public override Tensor Targets(float[] labels, Device device) => tensor(labels.Select(l => 2 * l - 1).ToArray(), device: device);

        public override Tensor Losses(Tensor output, Tensor targets) => (targets * output.squeeze(1)).OneMinus().clamp_min(Scalars.Zero);

        public override Tensor PredictClasses(Tensor output) => output.squeeze(1).gt(Scalars.Zero).to_type(ScalarType.Int64);
    }

    /// <summary>One margin per class; multi-class hinge (Weston–Watkins form, Torch's multi_margin_loss).</summary>
    private sealed class MultiMargin : ModelHead
    {
        public override Tensor Targets(float[] labels, Device device) => ClassIndices(labels, device);

        public override Tensor Losses(Tensor output, Tensor targets) => multi_margin_loss(output, targets, reduction: nn.Reduction.None);

        public override Tensor PredictClasses(Tensor output) => output.argmax(1);
    }

    private static Tensor ClassIndices(float[] labels, Device device) =>
        tensor(labels.Select(l => (long)l).ToArray(), device: device);
}
