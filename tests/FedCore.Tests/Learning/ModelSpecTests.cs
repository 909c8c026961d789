using FedCore.Data;
using FedCore.Learning;

namespace FedCore.Tests.Learning;

public class ModelSpecTests
{
    [Fact]
    public void Parses_every_model_type_from_the_documented_examples()
    {
        var logistic = ModelSpec.Parse("""{"type":"logistic","inputs":15,"classes":2}""", "t");
        Assert.Equal(ModelKind.Logistic, logistic.Kind);
        Assert.Equal(15, logistic.Inputs);
        Assert.True(logistic.IsBinary);
        Assert.Equal(1, logistic.OutputCount);

        var linear = ModelSpec.Parse("""{"type":"linear","inputs":8}""", "t");
        Assert.True(linear.IsRegression);
        Assert.Null(linear.Classes);

        var svm = ModelSpec.Parse("""{"type":"svm","inputs":15,"classes":4}""", "t");
        Assert.Equal(ModelKind.Svm, svm.Kind);
        Assert.Equal(4, svm.OutputCount);

        var mlp = ModelSpec.Parse("""{"type":"mlp","inputs":15,"hidden":[64,32],"activation":"tanh","dropout":0.25,"classes":3}""", "t");
        Assert.Equal<int>([64, 32], mlp.Hidden);
        Assert.Equal(Activation.Tanh, mlp.Activation);
        Assert.Equal(0.25, mlp.Dropout);

        var cnn = ModelSpec.Parse("""{"type":"cnn","image":{"channels":1,"height":28,"width":28},"classes":10}""", "t");
        Assert.Equal(new ImageShape(1, 28, 28), cnn.Image);
        Assert.Equal(784, cnn.Inputs);
        Assert.Equal(Activation.Relu, cnn.Activation);
        Assert.Equal(10, cnn.OutputCount);
    }

    [Theory]
    [InlineData("""{"type":"linear","inputs":8}""")]
    [InlineData("""{"type":"logistic","inputs":15,"classes":2}""")]
    [InlineData("""{"type":"svm","inputs":3,"classes":5}""")]
    [InlineData("""{"type":"mlp","inputs":15,"hidden":[64,32],"activation":"relu","dropout":0,"classes":2}""")]
    [InlineData("""{"type":"mlp","inputs":4,"hidden":[7],"activation":"sigmoid","dropout":0.5,"classes":3}""")]
    [InlineData("""{"type":"cnn","inputs":192,"image":{"channels":3,"height":8,"width":8},"activation":"tanh","dropout":0.1,"classes":4}""")]
    public void Canonical_json_is_a_fixed_point_of_parsing(string canonical)
    {
        var spec = ModelSpec.Parse(canonical, "t");
        Assert.Equal(canonical, spec.ToJson());
        Assert.Equal(spec, ModelSpec.Parse(spec.ToJson(), "again"));
    }

    [Fact]
    public void Canonical_json_does_not_depend_on_field_order_whitespace_or_defaults()
    {
        var scrambled = ModelSpec.Parse("""
            { "classes": 2,
              "hidden": [ 64, 32 ],
              "inputs": 15,
              "type": "mlp" }
            """, "t");
        var factory = ModelSpec.Mlp(15, [64, 32], 2);
        Assert.Equal(factory, scrambled);
        Assert.Equal(factory.GetHashCode(), scrambled.GetHashCode());
        Assert.Equal("""{"type":"mlp","inputs":15,"hidden":[64,32],"activation":"relu","dropout":0,"classes":2}""", scrambled.ToJson());
    }

    [Fact]
    public void Specs_differing_only_in_hidden_widths_are_not_equal()
    {
        Assert.NotEqual(ModelSpec.Mlp(4, [8, 4], 2), ModelSpec.Mlp(4, [8, 5], 2));
        Assert.NotEqual(ModelSpec.Mlp(4, [8], 2), ModelSpec.Mlp(4, [8, 4], 2));
    }

    [Theory]
    [InlineData("""{"inputs":8}""", "type", "missing")]
    [InlineData("""{"type":"forest","inputs":8}""", "type", "unknown model type \"forest\"")]
    [InlineData("""{"type":7,"inputs":8}""", "type", "must be a string")]
    [InlineData("""{"type":"Linear","inputs":8}""", "type", "unknown model type")]
    [InlineData("""{"type":"linear"}""", "inputs", "missing")]
    [InlineData("""{"type":"linear","inputs":0}""", "inputs", "at least 1, got 0")]
    [InlineData("""{"type":"linear","inputs":-3}""", "inputs", "at least 1, got -3")]
    [InlineData("""{"type":"linear","inputs":2.5}""", "inputs", "must be an integer")]
    [InlineData("""{"type":"linear","inputs":"8"}""", "inputs", "must be an integer")]
    [InlineData("""{"type":"linear","inputs":99999999999}""", "inputs", "must be an integer")]
    [InlineData("""{"type":"linear","inputs":8,"classes":2}""", "classes", "not a field of a 'linear' model")]
    [InlineData("""{"type":"logistic","inputs":8}""", "classes", "missing")]
    [InlineData("""{"type":"logistic","inputs":8,"classes":1}""", "classes", "at least 2, got 1")]
    [InlineData("""{"type":"svm","inputs":8,"classes":0}""", "classes", "at least 2, got 0")]
    [InlineData("""{"type":"logistic","inputs":8,"classes":2,"hidden":[4]}""", "hidden", "not a field of a 'logistic' model")]
    [InlineData("""{"type":"mlp","inputs":8,"hiden":[4],"classes":2}""", "hiden", "not a field of a 'mlp' model")]
    [InlineData("""{"type":"mlp","inputs":8,"classes":2}""", "hidden", "missing")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[],"classes":2}""", "hidden", "at least one hidden layer")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":4,"classes":2}""", "hidden", "must be an array")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4,0],"classes":2}""", "hidden[1]", "at least 1, got 0")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4,"x"],"classes":2}""", "hidden[1]", "must be an integer")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4],"activation":"softplus","classes":2}""", "activation", "unknown activation \"softplus\"")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4],"dropout":1,"classes":2}""", "dropout", "below 1, got 1")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4],"dropout":-0.1,"classes":2}""", "dropout", "at least 0")]
    [InlineData("""{"type":"mlp","inputs":8,"hidden":[4],"dropout":"0.1","classes":2}""", "dropout", "must be a number")]
    [InlineData("""{"type":"mlp","inputs":100000,"hidden":[100000],"classes":2}""", "inputs", "parameters; one parameter vector holds at most")]
    [InlineData("""{"type":"cnn","classes":2}""", "image", "missing")]
    [InlineData("""{"type":"cnn","image":[1,8,8],"classes":2}""", "image", "must be an object")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":8},"classes":2}""", "image.width", "missing")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":8,"width":8,"depth":2},"classes":2}""", "image.depth", "not a field of an image")]
    [InlineData("""{"type":"cnn","image":{"channels":0,"height":8,"width":8},"classes":2}""", "image.channels", "at least 1, got 0")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":3,"width":8},"classes":2}""", "image.height", "at least 4")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":8,"width":2},"classes":2}""", "image.width", "at least 4")]
    [InlineData("""{"type":"cnn","image":{"channels":1000,"height":100000,"width":100000},"classes":2}""", "image", "pixel columns is more than")]
    [InlineData("""{"type":"cnn","inputs":63,"image":{"channels":1,"height":8,"width":8},"classes":2}""", "inputs", "is 63 but the image 1×8×8 has 64 pixel columns")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":8,"width":8},"hidden":[4],"classes":2}""", "hidden", "not a field of a 'cnn' model")]
    public void Rejects_invalid_specs_naming_source_and_field(string json, string field, string problem)
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelSpec.Parse(json, "jobs/42.json"));
        Assert.Equal("jobs/42.json", error.SourceName);
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Problem);
        Assert.StartsWith($"Model spec jobs/42.json, field '{field}': ", error.Message);
    }

    [Theory]
    [InlineData("[1,2]", "expected a JSON object, got an array")]
    [InlineData("null", "expected a JSON object, got null")]
    public void Rejects_a_document_that_is_not_an_object(string json, string problem)
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelSpec.Parse(json, "spec.json"));
        Assert.Null(error.Field);
        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void Reports_line_and_byte_of_a_json_syntax_error()
    {
        string json = "{\n  \"type\": \"linear\",\n  \"inputs\": 8,,\n}";
        var error = Assert.Throws<ModelSpecException>(() => ModelSpec.Parse(json, "spec.json"));
        Assert.Equal(3, error.Line);
        Assert.Equal(15, error.BytePositionInLine);
        Assert.StartsWith("Model spec spec.json, line 3, byte 15: invalid JSON", error.Message);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Theory]
    [InlineData("""{"type":"linear","inputs":8,"inputs":9}""", "inputs")]
    [InlineData("""{"type":"cnn","image":{"channels":1,"height":8,"width":8,"height":9},"classes":2}""", "image.height")]
    public void Rejects_a_duplicated_field(string json, string field)
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelSpec.Parse(json, "spec.json"));
        Assert.Equal(field, error.Field);
        Assert.Equal("appears more than once", error.Problem);
    }

    [Fact]
    public void Factory_methods_validate_like_the_parser()
    {
        var error = Assert.Throws<ModelSpecException>(() => ModelSpec.Mlp(4, [8, -1], 2));
        Assert.Equal("ModelSpec.Mlp", error.SourceName);
        Assert.Equal("hidden[1]", error.Field);

        Assert.Equal("classes", Assert.Throws<ModelSpecException>(() => ModelSpec.Logistic(4, 1)).Field);
        Assert.Equal("inputs", Assert.Throws<ModelSpecException>(() => ModelSpec.LinearRegression(0)).Field);
        Assert.Equal("image.width", Assert.Throws<ModelSpecException>(() => ModelSpec.Cnn(new ImageShape(1, 8, 3), 2)).Field);
        Assert.Equal("dropout", Assert.Throws<ModelSpecException>(() => ModelSpec.Cnn(new ImageShape(1, 8, 8), 2, dropout: double.NaN)).Field);
    }
}
