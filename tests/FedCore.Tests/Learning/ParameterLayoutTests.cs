using FedCore.Data;
using FedCore.Learning;
using TorchSharp;

namespace FedCore.Tests.Learning;

public class ParameterLayoutTests
{
    public static TheoryData<string> AllModelTypes() =>
    [
        """{"type":"linear","inputs":8}""",
        """{"type":"logistic","inputs":15,"classes":2}""",
        """{"type":"logistic","inputs":5,"classes":3}""",
        """{"type":"svm","inputs":15,"classes":2}""",
        """{"type":"svm","inputs":6,"classes":4}""",
        """{"type":"mlp","inputs":15,"hidden":[64,32],"activation":"relu","dropout":0.2,"classes":2}""",
        """{"type":"cnn","image":{"channels":1,"height":8,"width":8},"classes":2}""",
        """{"type":"cnn","image":{"channels":3,"height":10,"width":7},"activation":"tanh","classes":5}""",
    ];

    [Theory]
    [MemberData(nameof(AllModelTypes))]
    public void Layout_lists_torch_parameters_in_named_parameters_order_with_contiguous_offsets(string json)
    {
        var spec = ModelSpec.Parse(json, "test");
        var layout = ParameterLayout.For(spec);
        using var model = ModelFactory.Create(spec, seed: 1);

        var named = model.Module.named_parameters().ToArray();
        Assert.Equal(named.Select(n => n.name), layout.Tensors.Select(t => t.Name));
        int offset = 0;
        for (int i = 0; i < named.Length; i++)
        {
            var slot = layout.Tensors[i];
            Assert.Equal(named[i].parameter.shape, slot.Shape.ToArray());
            Assert.Equal(named[i].parameter.numel(), slot.Length);
            Assert.Equal(offset, slot.Offset);
            offset += slot.Length;
        }
        Assert.Equal(offset, layout.TotalLength);
        Assert.Equal(named.Sum(n => n.parameter.numel()), layout.TotalLength);
    }

    [Fact]
    public void Layout_of_the_lenet_style_cnn_matches_the_documented_architecture()
    {
        var layout = ParameterLayout.For(ModelSpec.Cnn(new ImageShape(1, 28, 28), classes: 10));
        string[] expected =
        [
            "conv1.weight [6×1×5×5]", "conv1.bias [6]", "conv2.weight [16×6×5×5]", "conv2.bias [16]",
            "fc1.weight [120×784]", "fc1.bias [120]", "fc2.weight [84×120]", "fc2.bias [84]",
            "output.weight [10×84]", "output.bias [10]",
        ];
        Assert.Equal(expected, layout.Tensors.Select(t => $"{t.Name} [{string.Join("×", t.Shape)}]"));
    }

    [Theory]
    [MemberData(nameof(AllModelTypes))]
    public void Flatten_load_flatten_is_the_identity(string json)
    {
        var spec = ModelSpec.Parse(json, "test");
        var vector = ModelFactory.InitialParameters(spec, seed: 7);
        using var model = ModelFactory.Create(spec, vector);
        Assert.Equal(vector, model.GetParameters());

        // Load values that differ at every position, so a permutation or an offset error would show.
        var other = vector.Select((v, i) => v + i * 1e-3f).ToArray();
        model.SetParameters(other);
        Assert.Equal(other, model.GetParameters());
    }

    [Fact]
    public void Vector_values_land_in_the_documented_tensor_and_row_major_position()
    {
        var spec = ModelSpec.Mlp(3, [2], classes: 2);
        var layout = ParameterLayout.For(spec);
        var vector = new float[layout.TotalLength];
        for (int i = 0; i < vector.Length; i++)
            vector[i] = i;
        using var model = ModelFactory.Create(spec, vector);

        var (name, weight) = model.Module.named_parameters().First();
        Assert.Equal("hidden1.weight", name);
        // hidden1.weight is [2, 3]: element [1, 2] is the sixth value (index 1·3 + 2 = 5).
        Assert.Equal(5f, weight[1, 2].item<float>());
        Assert.Equal("hidden1.weight[1, 2]", layout.Locate(5));
        Assert.Equal("hidden1.bias[1]", layout.Locate(7));
        Assert.Equal("output.bias[0]", layout.Locate(layout.TotalLength - 1));
    }

    [Fact]
    public void A_vector_of_the_wrong_length_is_rejected_with_the_layout_in_the_message()
    {
        var spec = ModelSpec.Logistic(4, classes: 2);
        var error = Assert.Throws<ArgumentException>(() => ModelFactory.Create(spec, new float[4]));
        Assert.Equal("parameters", error.ParamName);
        Assert.Contains("has 4 values but model {\"type\":\"logistic\",\"inputs\":4,\"classes\":2} has 5", error.Message);
        Assert.Contains("linear.weight [1×4] at 0, 4 values", error.Message);

        using var model = ModelFactory.Create(spec, seed: 1);
        Assert.Throws<ArgumentException>(() => model.SetParameters(new float[6]));
        Assert.Throws<ArgumentException>(() => ModelEvaluator.Evaluate(spec, new float[3], SyntheticData.Blobs(10, 4, 2, seed: 1)));
    }

    [Fact]
    public void A_vector_with_a_non_finite_value_is_rejected_naming_the_element()
    {
        var spec = ModelSpec.Logistic(4, classes: 2);
        var vector = ModelFactory.InitialParameters(spec, seed: 1);
        vector[4] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => ModelFactory.Create(spec, vector));
        Assert.Contains("index 4 (linear.bias[0])", error.Message);
    }

    [Theory]
    [MemberData(nameof(AllModelTypes))]
    public void Same_seed_gives_a_bit_identical_initial_vector_and_another_seed_does_not(string json)
    {
        var spec = ModelSpec.Parse(json, "test");
        var first = ModelFactory.InitialParameters(spec, seed: 42);
        Assert.Equal(first, ModelFactory.InitialParameters(spec, seed: 42));
        Assert.NotEqual(first, ModelFactory.InitialParameters(spec, seed: 43));
        using var model = ModelFactory.Create(spec, seed: 42);
        Assert.Equal(first, model.GetParameters());
    }

    [Fact]
    public void Initial_values_follow_the_fan_in_bound_of_each_layer()
    {
        var spec = ModelSpec.Cnn(new ImageShape(2, 8, 8), classes: 3);
        var layout = ParameterLayout.For(spec);
        var vector = ModelFactory.InitialParameters(spec, seed: 5);
        var fanIn = new Dictionary<string, int> { ["conv1"] = 2 * 25, ["conv2"] = 6 * 25, ["fc1"] = 16 * 2 * 2, ["fc2"] = 120, ["output"] = 84 };
        foreach (var tensor in layout.Tensors)
        {
            double bound = 1 / Math.Sqrt(fanIn[tensor.Name.Split('.')[0]]);
            var values = vector.AsSpan(tensor.Offset, tensor.Length).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            // Spread over the range rather than stuck near zero (a uniform sample reaches 70 % of the bound easily).
            if (values.Length >= 16)
                Assert.True(values.Max(Math.Abs) > 0.7 * bound, $"{tensor.Name}: largest |value| {values.Max(Math.Abs)} of bound {bound}");
        }
    }

    [Fact]
    public void Layout_prints_one_line_per_tensor_and_the_total()
    {
        string text = ParameterLayout.For(ModelSpec.LinearRegression(3)).ToString();
        Assert.Equal(["  linear.weight [1×3] at 0, 3 values", "  linear.bias [1] at 3, 1 values", "  total 4 values"], text.Split(Environment.NewLine));
    }

    [Fact]
    public void Intra_op_thread_count_can_be_set_and_read_back()
    {
        int current = TorchDevices.IntraOpThreads;
        TorchDevices.SetIntraOpThreads(current);
        Assert.Equal(current, torch.get_num_threads());
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchDevices.SetIntraOpThreads(0));
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, TorchDevices.Current.type);
    }
}
