using System.Collections.Immutable;
using FedCore.Data;

namespace FedCore.Learning;

/// <summary>The model families a <see cref="ModelSpec"/> can describe. JSON names are the lower-case forms.</summary>
public enum ModelKind
{
    /// <summary>Linear regression, mean squared error. JSON: <c>linear</c>.</summary>
    Linear,
    /// <summary>Logistic regression: one logit with BCE for two classes, softmax cross-entropy above. JSON: <c>logistic</c>.</summary>
    Logistic,
    /// <summary>Linear SVM: hinge loss with labels 0/1 mapped to −1/+1, multi-margin loss above two classes. JSON: <c>svm</c>.</summary>
    Svm,
    /// <summary>Multi-layer perceptron classifier. JSON: <c>mlp</c>.</summary>
    Mlp,
    /// <summary>LeNet-style convolutional classifier over images stored as pixel columns. JSON: <c>cnn</c>.</summary>
    Cnn,
}

/// <summary>Hidden-layer non-linearity of MLP and CNN models. JSON names are the lower-case forms.</summary>
public enum Activation
{
    Relu,
    Tanh,
    Sigmoid,
}

/// <summary>
/// What model to train, independent of any Torch type so that it can be stored, hashed, signed and sent
/// between grains. Built by <see cref="Parse"/> from JSON such as
/// <c>{"type":"mlp","inputs":15,"hidden":[64,32],"activation":"relu","classes":2}</c>, or by the factory
/// methods; both validate, so every instance describes a buildable model. <see cref="ToJson"/> gives one
/// canonical text per model.
/// </summary>
public sealed record ModelSpec
{
    /// <summary>Height and width below this leave nothing after the CNN's two 2×2 poolings.</summary>
    public const int MinImageSide = 4;

    private ModelSpec(ModelKind kind, int inputs, int? classes, ImmutableArray<int> hidden, Activation? activation, ImageShape? image, double dropout)
    {
        Kind = kind;
        Inputs = inputs;
        Classes = classes;
        Hidden = hidden;
        Activation = activation;
        Image = image;
        Dropout = dropout;
    }

    public ModelKind Kind { get; }

    /// <summary>Feature columns per row; for a CNN, Channels·Height·Width.</summary>
    public int Inputs { get; }

    /// <summary>Number of classes (at least 2); null for regression.</summary>
    public int? Classes { get; }

    /// <summary>Hidden layer widths of an MLP, input side first; empty for other kinds.</summary>
    public ImmutableArray<int> Hidden { get; }

    /// <summary>Hidden non-linearity of an MLP or CNN; null for the linear kinds.</summary>
    public Activation? Activation { get; }

    /// <summary>
    /// Image shape of a CNN; null for other kinds. Each row holds Channels·Height·Width pixel columns,
    /// channel-major, then row, then column: pixel (c, y, x) is column c·H·W + y·W + x.
    /// </summary>
    public ImageShape? Image { get; }

    /// <summary>Dropout probability after each hidden fully connected layer of an MLP or CNN (0 = none).</summary>
    public double Dropout { get; }

    public bool IsRegression => Classes is null;

    /// <summary>Two classes: the model emits one score (a logit or SVM margin) whose sign is the prediction.</summary>
    public bool IsBinary => Classes == 2;

    /// <summary>Width of the model's output: 1 for regression and binary classification, else one per class.</summary>
    public int OutputCount => Classes is null or 2 ? 1 : Classes.Value;

    public static ModelSpec LinearRegression(int inputs) =>
        Validated(new ModelSpec(ModelKind.Linear, inputs, null, [], null, null, 0), "ModelSpec.LinearRegression");

    public static ModelSpec Logistic(int inputs, int classes) =>
        Validated(new ModelSpec(ModelKind.Logistic, inputs, classes, [], null, null, 0), "ModelSpec.Logistic");

    public static ModelSpec Svm(int inputs, int classes) =>
        Validated(new ModelSpec(ModelKind.Svm, inputs, classes, [], null, null, 0), "ModelSpec.Svm");

    public static ModelSpec Mlp(int inputs, IEnumerable<int> hidden, int classes, Activation activation = Learning.Activation.Relu, double dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        return Validated(new ModelSpec(ModelKind.Mlp, inputs, classes, [.. hidden], activation, null, dropout), "ModelSpec.Mlp");
    }

    public static ModelSpec Cnn(ImageShape image, int classes, Activation activation = Learning.Activation.Relu, double dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        long pixels = PixelColumns(image);
        int inputs = pixels is > 0 and <= int.MaxValue ? (int)pixels : 0;
        return Validated(new ModelSpec(ModelKind.Cnn, inputs, classes, [], activation, image, dropout), "ModelSpec.Cnn");
    }

    /// <summary>Parses and validates a JSON model specification; <paramref name="sourceName"/> is quoted in errors.</summary>
    /// <exception cref="ModelSpecException">The JSON is malformed, a field is unknown, missing, of the wrong type or out of range.</exception>
    public static ModelSpec Parse(string json, string sourceName) => ModelSpecJson.Parse(json, sourceName);

    /// <summary>
    /// Canonical JSON: compact, fields in the order type, inputs, image, hidden, activation, dropout, classes,
    /// every field that applies to the kind written (defaults included), nothing else.
    /// Equal specs give identical text, so the text can be hashed or signed.
    /// </summary>
    public string ToJson() => ModelSpecJson.Write(this);

    public override string ToString() => ToJson();

    public bool Equals(ModelSpec? other) =>
        other is not null
        && Kind == other.Kind && Inputs == other.Inputs && Classes == other.Classes
        && Hidden.SequenceEqual(other.Hidden) && Activation == other.Activation
        && Image == other.Image && Dropout.Equals(other.Dropout);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Kind);
        hash.Add(Inputs);
        hash.Add(Classes);
        foreach (int width in Hidden)
            hash.Add(width);
        hash.Add(Activation);
        hash.Add(Image);
        hash.Add(Dropout);
        return hash.ToHashCode();
    }

    /// <summary>Channels·Height·Width without the overflow of <see cref="ImageShape.PixelCount"/> on absurd shapes.</summary>
    internal static long PixelColumns(ImageShape image) => (long)image.Channels * image.Height * image.Width;

    internal static ModelSpec Create(ModelKind kind, int inputs, int? classes, ImmutableArray<int> hidden, Activation? activation, ImageShape? image, double dropout, string sourceName) =>
        Validated(new ModelSpec(kind, inputs, classes, hidden, activation, image, dropout), sourceName);

    private static ModelSpec Validated(ModelSpec spec, string sourceName)
    {
        void Fail(string field, string problem) => throw new ModelSpecException(sourceName, field, problem);

        if (spec.Kind == ModelKind.Cnn)
        {
            var image = spec.Image!;
            if (image.Channels < 1)
                Fail("image.channels", $"must be at least 1, got {image.Channels}");
            if (image.Height < MinImageSide)
                Fail("image.height", $"must be at least {MinImageSide} (the network halves the image twice), got {image.Height}");
            if (image.Width < MinImageSide)
                Fail("image.width", $"must be at least {MinImageSide} (the network halves the image twice), got {image.Width}");
            long pixels = PixelColumns(image);
            if (pixels > int.MaxValue)
                Fail("image", $"{image.Channels}×{image.Height}×{image.Width} = {pixels} pixel columns is more than {int.MaxValue}");
        }
        else if (spec.Inputs < 1)
        {
            Fail("inputs", $"must be at least 1, got {spec.Inputs}");
        }

        if (spec.Kind != ModelKind.Linear && spec.Classes < 2)
            Fail("classes", $"must be at least 2, got {spec.Classes}");

        if (spec.Kind == ModelKind.Mlp)
        {
            if (spec.Hidden.IsEmpty)
                Fail("hidden", "must list at least one hidden layer width");
            for (int i = 0; i < spec.Hidden.Length; i++)
                if (spec.Hidden[i] < 1)
                    Fail($"hidden[{i}]", $"must be at least 1, got {spec.Hidden[i]}");
        }

        if (spec.Activation is { } activation && !Enum.IsDefined(activation))
            Fail("activation", $"unknown activation {(int)activation}");

        // A probability of 1 would zero every activation.
        if (!(spec.Dropout >= 0 && spec.Dropout < 1))
            Fail("dropout", $"must be at least 0 and below 1, got {spec.Dropout}");

        long parameterCount = ModelArchitecture.CountParameters(spec);
        if (parameterCount > Array.MaxLength)
            Fail(spec.Kind == ModelKind.Cnn ? "image" : "inputs",
                $"the model would have {parameterCount} parameters; one parameter vector holds at most {Array.MaxLength}");
        return spec;
    }
}
