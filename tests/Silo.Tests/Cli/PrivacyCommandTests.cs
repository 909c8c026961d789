using System.Text.Json.Nodes;
using FedCore.Privacy.Accounting;
using Federation.Silo.Cli;

namespace Federation.Silo.Tests.Cli;

/// <summary>`federation privacy epsilon`: one JSON object with the accountant's ε and order; bad input exits 2 naming the option.</summary>
public sealed class PrivacyCommandTests
{
    private static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(args, output, error);
        return new CliResult(args, exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task It_prints_the_accountants_epsilon_and_order_as_one_json_object()
    {
        var result = (await RunAsync("privacy", "epsilon", "--sigma", "1.5", "--q", "0.04", "--steps", "2250", "--delta", "1e-5")).Succeeded();

        var printed = Assert.IsType<JsonObject>(result.Json);
        Assert.Equal(["epsilon", "order"], printed.Select(p => p.Key));
        var expected = SampledGaussian.Epsilon(q: 0.04, sigma: 1.5, steps: 2250, delta: 1e-5);
        Assert.Equal(expected.Epsilon, (double)printed["epsilon"]!);
        Assert.Equal(expected.Order, (double)printed["order"]!);
        // Opacus' documented figure for these parameters (opacus/tests/accountants_test.py).
        Assert.Equal(7.32911117143, (double)printed["epsilon"]!, 1e-9);
        Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("--q", "1.5")]
    [InlineData("--q", "abc")]
    [InlineData("--sigma", "-1")]
    [InlineData("--sigma", "0")]
    [InlineData("--sigma", "NaN")]
    [InlineData("--steps", "-4")]
    [InlineData("--steps", "2.5")]
    [InlineData("--delta", "0")]
    [InlineData("--delta", "1")]
    public async Task Bad_input_exits_2_naming_the_option_and_the_value(string option, string value)
    {
        var args = new Dictionary<string, string> { ["--sigma"] = "1.1", ["--q"] = "0.01", ["--steps"] = "1000", ["--delta"] = "1e-5" };
        args[option] = value;

        (await RunAsync(["privacy", "epsilon", .. args.SelectMany(a => new[] { a.Key, a.Value })])).Refused(option, value);
    }

    [Fact]
    public async Task A_missing_option_is_bad_input() =>
        (await RunAsync("privacy", "epsilon", "--sigma", "1.1", "--q", "0.01", "--steps", "1000")).Refused("--delta");
}
