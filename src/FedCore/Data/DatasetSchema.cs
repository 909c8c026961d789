using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FedCore.Data;

public enum FeatureKind
{
    Numeric,
    Categorical,
}

/// <summary>
/// One feature column. A categorical column becomes one 0/1 feature per category ("cp=1", "cp=2", …);
/// a numeric column becomes one feature, standardised with federation-wide statistics when <see cref="Scale"/>.
/// </summary>
public sealed record FeatureSpec(string Column, FeatureKind Kind, CategoryList? Categories, bool Scale)
{
    public IEnumerable<string> OutputNames =>
        Kind == FeatureKind.Numeric ? [Column] : Categories!.Values.Select(category => $"{Column}={category}");
}

public enum LabelKind
{
    /// <summary>0 or 1, decided by a threshold on a numeric cell.</summary>
    Binary,

    /// <summary>The index of the cell's value in a fixed class list.</summary>
    Classes,

    /// <summary>The cell's numeric value.</summary>
    Regression,
}

public enum ComparisonOperator
{
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

/// <summary>A binary label is positive (1) when the cell's value satisfies this comparison, else 0.</summary>
public sealed record LabelThreshold(ComparisonOperator Operator, double Value)
{
    public bool IsPositive(double cell) => Operator switch
    {
        ComparisonOperator.GreaterThan => cell > Value,
        ComparisonOperator.GreaterThanOrEqual => cell >= Value,
        ComparisonOperator.LessThan => cell < Value,
        ComparisonOperator.LessThanOrEqual => cell <= Value,
        _ => throw new InvalidOperationException($"Unknown comparison {Operator}."),
    };
}

public sealed record LabelSpec(string Column, LabelKind Kind, LabelThreshold? PositiveWhen, CategoryList? Classes)
{
    /// <summary>Number of classes for classification, null for regression.</summary>
    public int? ClassCount => Kind switch
    {
        LabelKind.Binary => 2,
        LabelKind.Classes => Classes!.Count,
        _ => null,
    };
}

public enum MissingValuePolicy
{
    /// <summary>A missing value in a feature or label column is an error naming the cell.</summary>
    Fail,

    /// <summary>A row with a missing value in a feature or label column is left out and counted.</summary>
    DropRow,
}

/// <summary>Declares that the features, in order, are the pixels of a channels × height × width image.</summary>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    public int PixelCount => Channels * Height * Width;
}

/// <summary>
/// How a participant's data file is read and turned into features and labels. Every participant of a
/// federation holds the same schema; its <see cref="Hash"/> (SHA-256 of <see cref="CanonicalJson"/>)
/// lets the federation check that without seeing any row.
/// </summary>
public sealed class DatasetSchema
{
    private DatasetSchema(
        string name,
        char delimiter,
        bool hasHeader,
        IReadOnlyList<string> missingValues,
        IReadOnlyList<string> columns,
        IReadOnlyList<FeatureSpec> features,
        LabelSpec label,
        MissingValuePolicy missing,
        ImageShape? image)
    {
        Name = name;
        Delimiter = delimiter;
        HasHeader = hasHeader;
        MissingValues = missingValues;
        Columns = columns;
        Features = features;
        Label = label;
        Missing = missing;
        Image = image;
        FeatureNames = features.SelectMany(feature => feature.OutputNames).ToArray();
        ScaledFeatureNames = features.Where(feature => feature.Scale).Select(feature => feature.Column).ToArray();
        CanonicalJson = WriteCanonicalJson();
        Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson)));
    }

    public string Name { get; }

    public char Delimiter { get; }

    public bool HasHeader { get; }

    /// <summary>Cell texts that mean "no value", besides the empty cell, which always does.</summary>
    public IReadOnlyList<string> MissingValues { get; }

    /// <summary>Every column of the file, in file order; columns neither feature nor label are ignored.</summary>
    public IReadOnlyList<string> Columns { get; }

    public IReadOnlyList<FeatureSpec> Features { get; }

    public LabelSpec Label { get; }

    public MissingValuePolicy Missing { get; }

    public ImageShape? Image { get; }

    /// <summary>Names of the output features, one-hot columns expanded, in the order of the feature matrix.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The numeric features standardised with federation-wide statistics.</summary>
    public IReadOnlyList<string> ScaledFeatureNames { get; }

    /// <summary>The schema's meaning as compact JSON with a fixed field order and every default written out.</summary>
    public string CanonicalJson { get; }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 bytes of <see cref="CanonicalJson"/>.</summary>
    public string Hash { get; }

    /// <exception cref="DatasetSchemaException">The file is missing, unreadable or invalid.</exception>
    public static DatasetSchema Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetSchemaException(path, "$", $"cannot read the schema file '{path}': {e.Message}", e);
        }
        return Parse(json, path);
    }

    /// <param name="json">The schema document; comments and trailing commas are allowed.</param>
    /// <param name="sourcePath">Named in errors.</param>
    /// <exception cref="DatasetSchemaException">The document is invalid.</exception>
    public static DatasetSchema Parse(string json, string sourcePath)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(sourcePath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException e)
        {
            // The message ends with 0-based "LineNumber: … | BytePositionInLine: …"; say it 1-based instead.
            var what = e.Message;
            int position = what.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (position >= 0)
                what = what[..position];
            throw new DatasetSchemaException(sourcePath, "$", $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the line: {what}", e);
        }
        using (document)
            return new SchemaReader(sourcePath).Read(document.RootElement);
    }

    private string WriteCanonicalJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", Name);
            json.WriteString("format", "csv");
            json.WriteString("delimiter", Delimiter.ToString());
            json.WriteBoolean("header", HasHeader);
            WriteStrings(json, "missingValues", MissingValues);
            WriteStrings(json, "columns", Columns);
            json.WriteStartArray("features");
            foreach (var feature in Features)
            {
                json.WriteStartObject();
                json.WriteString("column", feature.Column);
                if (feature.Kind == FeatureKind.Numeric)
                {
                    json.WriteString("type", "numeric");
                    json.WriteBoolean("scale", feature.Scale);
                }
                else
                {
                    json.WriteString("type", "categorical");
                    WriteStrings(json, "categories", feature.Categories!.Values);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("label");
            json.WriteString("column", Label.Column);
            json.WriteString("type", SchemaReader.LabelKindNames[Label.Kind]);
            if (Label.PositiveWhen is { } threshold)
            {
                json.WriteStartObject("positiveWhen");
                json.WriteNumber(SchemaReader.OperatorNames[threshold.Operator], threshold.Value);
                json.WriteEndObject();
            }
            if (Label.Classes is { } classes)
                WriteStrings(json, "classes", classes.Values);
            json.WriteEndObject();
            json.WriteString("missing", Missing == MissingValuePolicy.DropRow ? "dropRow" : "fail");
            if (Image is { } image)
            {
                json.WriteStartObject("image");
                json.WriteNumber("channels", image.Channels);
                json.WriteNumber("height", image.Height);
                json.WriteNumber("width", image.Width);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }

    /// <summary>Walks the JSON document, checking every field and naming its path when one is wrong.</summary>
    private sealed class SchemaReader(string sourcePath)
    {
        public static readonly IReadOnlyDictionary<LabelKind, string> LabelKindNames = new Dictionary<LabelKind, string>
        {
            [LabelKind.Binary] = "binary",
            [LabelKind.Classes] = "classes",
            [LabelKind.Regression] = "regression",
        };

        public static readonly IReadOnlyDictionary<ComparisonOperator, string> OperatorNames = new Dictionary<ComparisonOperator, string>
        {
            [ComparisonOperator.GreaterThan] = "greaterThan",
            [ComparisonOperator.GreaterThanOrEqual] = "greaterThanOrEqual",
            [ComparisonOperator.LessThan] = "lessThan",
            [ComparisonOperator.LessThanOrEqual] = "lessThanOrEqual",
        };

        // A column range such as "pixel{0..783}" stands for pixel0 … pixel783; images need hundreds of columns.
        private const int MaxRangeLength = 1_000_000;

        public DatasetSchema Read(JsonElement root)
        {
            CheckObject(root, "$", "name", "format", "delimiter", "header", "missingValues", "columns", "features", "label", "missing", "image");

            var name = RequiredString(root, "name", "$");
            var format = OptionalString(root, "format", "$") ?? "csv";
            if (format != "csv")
                throw Error("$.format", $"unsupported format '{format}'; only \"csv\" is supported");

            var delimiter = ReadDelimiter(root);
            var hasHeader = OptionalBool(root, "header", "$") ?? false;
            var missingValues = ReadMissingValues(root);
            var columns = ReadColumns(root);
            var label = ReadLabel(root, columns);
            var features = ReadFeatures(root, columns, label.Column);
            var missing = OptionalString(root, "missing", "$") switch
            {
                null or "fail" => MissingValuePolicy.Fail,
                "dropRow" => MissingValuePolicy.DropRow,
                var other => throw Error("$.missing", $"'{other}' is not a missing-value policy; use \"dropRow\" or \"fail\""),
            };
            var image = ReadImage(root, features);

            return new DatasetSchema(name, delimiter, hasHeader, missingValues, columns, features, label, missing, image);
        }

        private char ReadDelimiter(JsonElement root)
        {
            var text = OptionalString(root, "delimiter", "$") ?? ",";
            if (text.Length != 1)
                throw Error("$.delimiter", $"must be a single character, found \"{text}\"");
            var delimiter = text[0];
            if (delimiter is '"' or '\r' or '\n' or ' ' or '.' or '-' or '+' || char.IsAsciiLetterOrDigit(delimiter))
                throw Error("$.delimiter", $"'{delimiter}' cannot separate cells: it can occur inside a value");
            return delimiter;
        }

        private string[] ReadMissingValues(JsonElement root)
        {
            if (!root.TryGetProperty("missingValues", out var element))
                return [];
            var values = StringArray(element, "$.missingValues", allowEmpty: true);
            // The empty cell is always missing, and the order of markers means nothing: drop and sort for a stable hash.
            return values.Where(value => value.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        }

        private string[] ReadColumns(JsonElement root)
        {
            var element = Required(root, "columns", "$");
            var raw = StringArray(element, "$.columns", allowEmpty: false);
            var columns = new List<string>();
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < raw.Length; i++)
            {
                foreach (var column in ExpandRange(raw[i], $"$.columns[{i}]"))
                {
                    if (!seen.TryAdd(column, $"$.columns[{i}]"))
                        throw Error($"$.columns[{i}]", $"column '{column}' is already declared at {seen[column]}");
                    columns.Add(column);
                }
            }
            if (columns.Count == 0)
                throw Error("$.columns", "must list at least one column");
            return columns.ToArray();
        }

        private LabelSpec ReadLabel(JsonElement root, IReadOnlyList<string> columns)
        {
            const string path = "$.label";
            var label = Required(root, "label", "$");
            CheckObject(label, path, "column", "type", "positiveWhen", "classes");
            var column = RequiredString(label, "column", path);
            CheckColumnDeclared(column, columns, $"{path}.column");
            var type = RequiredString(label, "type", path);
            if (!LabelKindNames.Values.Contains(type))
                throw Error($"{path}.type", $"'{type}' is not a label type; use \"binary\", \"classes\" or \"regression\"");
            var kind = LabelKindNames.Single(pair => pair.Value == type).Key;

            LabelThreshold? threshold = null;
            CategoryList? classes = null;
            switch (kind)
            {
                case LabelKind.Binary:
                    threshold = ReadThreshold(Required(label, "positiveWhen", path), $"{path}.positiveWhen");
                    Forbid(label, "classes", path, "a binary label");
                    break;
                case LabelKind.Classes:
                    classes = ReadCategories(Required(label, "classes", path), $"{path}.classes");
                    if (classes.Count < 2)
                        throw Error($"{path}.classes", "a classification label needs at least two classes");
                    Forbid(label, "positiveWhen", path, "a classes label");
                    break;
                default:
                    Forbid(label, "positiveWhen", path, "a regression label");
                    Forbid(label, "classes", path, "a regression label");
                    break;
            }
            return new LabelSpec(column, kind, threshold, classes);
        }

        private LabelThreshold ReadThreshold(JsonElement element, string path)
        {
            CheckObject(element, path, OperatorNames.Values.ToArray());
            var properties = element.EnumerateObject().ToArray();
            if (properties.Length != 1)
                throw Error(path, $"needs exactly one comparison ({string.Join(", ", OperatorNames.Values)}), found {properties.Length}");
            var property = properties[0];
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var value) || !double.IsFinite(value))
                throw Error($"{path}.{property.Name}", $"must be a finite number, found {Describe(property.Value)}");
            var op = OperatorNames.Single(pair => pair.Value == property.Name).Key;
            return new LabelThreshold(op, value);
        }

        private FeatureSpec[] ReadFeatures(JsonElement root, IReadOnlyList<string> columns, string labelColumn)
        {
            var element = Required(root, "features", "$");
            if (element.ValueKind != JsonValueKind.Array)
                throw Error("$.features", $"must be an array, found {Describe(element)}");
            var features = new List<FeatureSpec>();
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            int index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var path = $"$.features[{index++}]";
                CheckObject(item, path, "column", "type", "categories", "scale");
                var columnPattern = RequiredString(item, "column", path);
                var type = RequiredString(item, "type", path);
                FeatureKind kind = type switch
                {
                    "numeric" => FeatureKind.Numeric,
                    "categorical" => FeatureKind.Categorical,
                    _ => throw Error($"{path}.type", $"'{type}' is not a feature type; use \"numeric\" or \"categorical\""),
                };
                CategoryList? categories = null;
                bool scale = false;
                if (kind == FeatureKind.Numeric)
                {
                    Forbid(item, "categories", path, "a numeric feature");
                    scale = OptionalBool(item, "scale", path) ?? true;
                }
                else
                {
                    Forbid(item, "scale", path, "a categorical feature (one-hot features are never scaled)");
                    categories = ReadCategories(Required(item, "categories", path), $"{path}.categories");
                    if (categories.Count == 0)
                        throw Error($"{path}.categories", "a categorical feature needs at least one category");
                }

                foreach (var column in ExpandRange(columnPattern, $"{path}.column"))
                {
                    CheckColumnDeclared(column, columns, $"{path}.column");
                    if (column == labelColumn)
                        throw Error($"{path}.column", $"'{column}' is the label column; it cannot also be a feature");
                    if (!seen.TryAdd(column, path))
                        throw Error($"{path}.column", $"column '{column}' is already a feature at {seen[column]}");
                    features.Add(new FeatureSpec(column, kind, categories, scale));
                }
            }
            if (features.Count == 0)
                throw Error("$.features", "must list at least one feature");
            return features.ToArray();
        }

        private ImageShape? ReadImage(JsonElement root, IReadOnlyList<FeatureSpec> features)
        {
            const string path = "$.image";
            if (!root.TryGetProperty("image", out var element))
                return null;
            CheckObject(element, path, "channels", "height", "width");
            var image = new ImageShape(
                PositiveInt(element, "channels", path),
                PositiveInt(element, "height", path),
                PositiveInt(element, "width", path));
            var categorical = features.FirstOrDefault(feature => feature.Kind != FeatureKind.Numeric);
            if (categorical is not null)
                throw Error(path, $"image pixels must be numeric features, but '{categorical.Column}' is categorical");
            if ((long)image.Channels * image.Height * image.Width != features.Count)
                throw Error(path, $"{image.Channels} × {image.Height} × {image.Width} pixels do not match the {features.Count} features");
            return image;
        }

        private CategoryList ReadCategories(JsonElement element, string path)
        {
            var values = StringArray(element, path, allowEmpty: false);
            try
            {
                return new CategoryList(values);
            }
            catch (ArgumentException e)
            {
                throw Error(path, e.Message);
            }
        }

        private IEnumerable<string> ExpandRange(string pattern, string path)
        {
            int open = pattern.IndexOf('{');
            if (open < 0)
                return [pattern];
            int close = pattern.IndexOf('}', open);
            string[] range = close < 0 ? [] : pattern[(open + 1)..close].Split("..");
            if (range.Length != 2
                || !int.TryParse(range[0], out int first) || !int.TryParse(range[1], out int last)
                || first < 0 || last < first || pattern.IndexOf('{', close) >= 0)
                throw Error(path, $"'{pattern}' is not a column name or a range like \"pixel{{0..783}}\"");
            if ((long)last - first + 1 > MaxRangeLength)
                throw Error(path, $"the range '{pattern}' has more than {MaxRangeLength} columns");
            var prefix = pattern[..open];
            var suffix = pattern[(close + 1)..];
            return Enumerable.Range(first, last - first + 1).Select(i => $"{prefix}{i}{suffix}");
        }

        private void CheckColumnDeclared(string column, IReadOnlyList<string> columns, string path)
        {
            if (!columns.Contains(column))
                throw Error(path, $"'{column}' is not one of the declared columns");
        }

        private void CheckObject(JsonElement element, string path, params string[] allowed)
        {
            if (element.ValueKind != JsonValueKind.Object)
                throw Error(path, $"must be an object, found {Describe(element)}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                if (!allowed.Contains(property.Name))
                    throw Error($"{path}.{property.Name}", $"unknown field; expected one of {string.Join(", ", allowed)}");
                if (!seen.Add(property.Name))
                    throw Error($"{path}.{property.Name}", "field appears twice");
            }
        }

        private void Forbid(JsonElement element, string name, string path, string what)
        {
            if (element.TryGetProperty(name, out _))
                throw Error($"{path}.{name}", $"does not apply to {what}");
        }

        private JsonElement Required(JsonElement element, string name, string path) =>
            element.TryGetProperty(name, out var value) ? value : throw Error($"{path}.{name}", "required field is missing");

        private string RequiredString(JsonElement element, string name, string path) =>
            OptionalString(element, name, path) ?? throw Error($"{path}.{name}", "required field is missing");

        private string? OptionalString(JsonElement element, string name, string path)
        {
            if (!element.TryGetProperty(name, out var value))
                return null;
            if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                throw Error($"{path}.{name}", $"must be a non-empty string, found {Describe(value)}");
            return value.GetString()!;
        }

        private bool? OptionalBool(JsonElement element, string name, string path)
        {
            if (!element.TryGetProperty(name, out var value))
                return null;
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"{path}.{name}", $"must be true or false, found {Describe(value)}"),
            };
        }

        private int PositiveInt(JsonElement element, string name, string path)
        {
            var value = Required(element, name, path);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number) || number < 1)
                throw Error($"{path}.{name}", $"must be a positive whole number, found {Describe(value)}");
            return number;
        }

        private string[] StringArray(JsonElement element, string path, bool allowEmpty)
        {
            if (element.ValueKind != JsonValueKind.Array)
                throw Error(path, $"must be an array of strings, found {Describe(element)}");
            var values = new List<string>();
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = $"{path}[{values.Count}]";
                if (item.ValueKind != JsonValueKind.String)
                    throw Error(itemPath, $"must be a string, found {Describe(item)}");
                var text = item.GetString()!;
                if (text.Trim() != text)
                    throw Error(itemPath, $"\"{text}\" has leading or trailing white space, which cells lose when read");
                if (!allowEmpty && text.Length == 0)
                    throw Error(itemPath, "must not be empty");
                values.Add(text);
            }
            return values.ToArray();
        }

        private static string Describe(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => $"\"{element.GetString()}\"",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => element.GetRawText(),
        };

        private DatasetSchemaException Error(string path, string reason) => new(sourcePath, path, reason);
    }
}
