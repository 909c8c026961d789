using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using FedCore.Data;

namespace FedCore.Learning;

/// <summary>
/// JSON form of <see cref="ModelSpec"/>. Reading is closed-world: a field the kind does not use is an
/// error, never silently ignored, so a typo such as "hiden" cannot train a different model than intended.
/// </summary>
internal static class ModelSpecJson
{
    private static readonly Dictionary<ModelKind, string[]> AllowedFields = new()
    {
        [ModelKind.Linear] = ["type", "inputs"],
        [ModelKind.Logistic] = ["type", "inputs", "classes"],
        [ModelKind.Svm] = ["type", "inputs", "classes"],
        [ModelKind.Mlp] = ["type", "inputs", "hidden", "activation", "dropout", "classes"],
        // inputs is optional for a CNN; when given it must agree with the image shape.
        [ModelKind.Cnn] = ["type", "inputs", "image", "activation", "dropout", "classes"],
    };

    private static readonly string[] ImageFields = ["channels", "height", "width"];

    public static ModelSpec Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(sourceName);
        using var document = ParseDocument(json, sourceName);
        var reader = new FieldReader(sourceName);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelSpecException(sourceName, null, $"expected a JSON object, got {Describe(root)}");

        var fields = reader.Fields(root, prefix: "");
        if (!fields.TryGetValue("type", out var typeElement))
            throw new ModelSpecException(sourceName, "type", $"is missing; expected one of {KindNames()}");
        var kind = reader.Kind(typeElement);

        string[] allowed = AllowedFields[kind];
        foreach (string name in fields.Keys)
            if (!allowed.Contains(name))
                throw new ModelSpecException(sourceName, name,
                    $"is not a field of a '{KindName(kind)}' model; allowed: {string.Join(", ", allowed)}");

        int? classes = fields.TryGetValue("classes", out var classesElement) ? reader.Integer(classesElement, "classes") : null;
        if (kind != ModelKind.Linear && classes is null)
            throw new ModelSpecException(sourceName, "classes", "is missing");

        ImageShape? image = null;
        int inputs;
        if (kind == ModelKind.Cnn)
        {
            if (!fields.TryGetValue("image", out var imageElement))
                throw new ModelSpecException(sourceName, "image", "is missing; expected {\"channels\":…,\"height\":…,\"width\":…}");
            image = reader.Image(imageElement);
            long pixels = ModelSpec.PixelColumns(image);
            if (fields.TryGetValue("inputs", out var inputsElement))
            {
                int declared = reader.Integer(inputsElement, "inputs");
                if (declared != pixels)
                    throw new ModelSpecException(sourceName, "inputs",
                        $"is {declared} but the image {image.Channels}×{image.Height}×{image.Width} has {pixels} pixel columns");
            }
            inputs = pixels is > 0 and <= int.MaxValue ? (int)pixels : 0;
        }
        else
        {
            if (!fields.TryGetValue("inputs", out var inputsElement))
                throw new ModelSpecException(sourceName, "inputs", "is missing");
            inputs = reader.Integer(inputsElement, "inputs");
        }

        ImmutableArray<int> hidden = [];
        if (kind == ModelKind.Mlp)
        {
            if (!fields.TryGetValue("hidden", out var hiddenElement))
                throw new ModelSpecException(sourceName, "hidden", "is missing; expected an array of layer widths such as [64, 32]");
            hidden = reader.IntegerArray(hiddenElement, "hidden");
        }

        Activation? activation = null;
        double dropout = 0;
        if (kind is ModelKind.Mlp or ModelKind.Cnn)
        {
            activation = fields.TryGetValue("activation", out var activationElement) ? reader.Activation(activationElement) : Activation.Relu;
            if (fields.TryGetValue("dropout", out var dropoutElement))
                dropout = reader.Number(dropoutElement, "dropout");
        }

        return ModelSpec.Create(kind, inputs, classes, hidden, activation, image, dropout, sourceName);
    }

    public static string Write(ModelSpec spec)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", KindName(spec.Kind));
            writer.WriteNumber("inputs", spec.Inputs);
            if (spec.Image is { } image)
            {
                writer.WriteStartObject("image");
                writer.WriteNumber("channels", image.Channels);
                writer.WriteNumber("height", image.Height);
                writer.WriteNumber("width", image.Width);
                writer.WriteEndObject();
            }
            if (spec.Kind == ModelKind.Mlp)
            {
                writer.WriteStartArray("hidden");
                foreach (int width in spec.Hidden)
                    writer.WriteNumberValue(width);
                writer.WriteEndArray();
            }
            if (spec.Activation is { } activation)
            {
                writer.WriteString("activation", ActivationName(activation));
                writer.WriteNumber("dropout", spec.Dropout);
            }
            if (spec.Classes is { } classes)
                writer.WriteNumber("classes", classes);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string KindName(ModelKind kind) => kind.ToString().ToLowerInvariant();

    public static string ActivationName(Activation activation) => activation.ToString().ToLowerInvariant();

    private static string KindNames() => string.Join(", ", Enum.GetValues<ModelKind>().Select(KindName));

    private static JsonDocument ParseDocument(string json, string sourceName)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            // The runtime appends "LineNumber: n | BytePositionInLine: m." (0-based); we report 1-based positions instead.
            string problem = e.Message;
            int suffix = problem.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (suffix > 0)
                problem = problem[..suffix];
            throw new ModelSpecException(sourceName, null, $"invalid JSON: {problem}",
                e.LineNumber + 1, e.BytePositionInLine + 1, e);
        }
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {element.GetRawText()}",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {element.GetRawText()}",
        _ => "null",
    };

    /// <summary>Typed field access that names the field and the offending value on failure.</summary>
    private sealed class FieldReader(string sourceName)
    {
        public ModelKind Kind(JsonElement element)
        {
            string text = String(element, "type");
            foreach (var kind in Enum.GetValues<ModelKind>())
                if (KindName(kind) == text)
                    return kind;
            throw new ModelSpecException(sourceName, "type", $"unknown model type \"{text}\"; expected one of {KindNames()}");
        }

        public Activation Activation(JsonElement element)
        {
            string text = String(element, "activation");
            foreach (var activation in Enum.GetValues<Activation>())
                if (ActivationName(activation) == text)
                    return activation;
            throw new ModelSpecException(sourceName, "activation",
                $"unknown activation \"{text}\"; expected one of {string.Join(", ", Enum.GetValues<Activation>().Select(ActivationName))}");
        }

        public ImageShape Image(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object)
                throw new ModelSpecException(sourceName, "image", $"must be an object with channels, height and width, got {Describe(element)}");
            var fields = Fields(element, prefix: "image.");
            foreach (string name in fields.Keys)
                if (!ImageFields.Contains(name))
                    throw new ModelSpecException(sourceName, $"image.{name}", $"is not a field of an image; allowed: {string.Join(", ", ImageFields)}");
            int Dimension(string name) => fields.TryGetValue(name, out var value)
                ? Integer(value, $"image.{name}")
                : throw new ModelSpecException(sourceName, $"image.{name}", "is missing");
            return new ImageShape(Dimension("channels"), Dimension("height"), Dimension("width"));
        }

        /// <summary>An object's fields by name; a name given twice is an error rather than last-one-wins.</summary>
        public Dictionary<string, JsonElement> Fields(JsonElement element, string prefix)
        {
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
                if (!fields.TryAdd(property.Name, property.Value))
                    throw new ModelSpecException(sourceName, prefix + property.Name, "appears more than once");
            return fields;
        }

        public ImmutableArray<int> IntegerArray(JsonElement element, string field)
        {
            if (element.ValueKind != JsonValueKind.Array)
                throw new ModelSpecException(sourceName, field, $"must be an array of integers, got {Describe(element)}");
            var values = ImmutableArray.CreateBuilder<int>();
            int index = 0;
            foreach (var item in element.EnumerateArray())
                values.Add(Integer(item, $"{field}[{index++}]"));
            return values.ToImmutable();
        }

        public int Integer(JsonElement element, string field)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int value))
                throw new ModelSpecException(sourceName, field, $"must be an integer (32-bit), got {Describe(element)}");
            return value;
        }

        public double Number(JsonElement element, string field)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out double value))
                throw new ModelSpecException(sourceName, field, $"must be a number, got {Describe(element)}");
            return value;
        }

        private string String(JsonElement element, string field)
        {
            if (element.ValueKind != JsonValueKind.String)
                throw new ModelSpecException(sourceName, field, $"must be a string, got {Describe(element)}");
            return element.GetString()!;
        }
    }
}
