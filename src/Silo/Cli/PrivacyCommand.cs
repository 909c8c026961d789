using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FedCore.Privacy.Accounting;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation privacy epsilon`: the (ε, δ) guarantee of T steps of the Poisson-subsampled Gaussian mechanism, from the RDP
/// accountant (<see cref="SampledGaussian"/>) at its default orders. Prints one JSON object, {"epsilon":…,"order":…};
/// bad input exits 2 naming the option and the value.
/// </summary>
public static class PrivacyCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var sigma = new Option<string>("--sigma") { Description = "Noise multiplier σ: the noise's standard deviation over the clipping norm (> 0).", Required = true };
        var q = new Option<string>("--q") { Description = "Poisson sampling rate q in [0, 1]: each record's chance of joining a step.", Required = true };
        var steps = new Option<string>("--steps") { Description = "Number of steps T (≥ 0).", Required = true };
        var delta = new Option<string>("--delta") { Description = "δ in (0, 1).", Required = true };
        var epsilon = new Command("epsilon", "ε of T steps at sampling rate q and noise multiplier σ, with the optimal Rényi order (Opacus' and TF-Privacy's conversion).")
        {
            sigma, q, steps, delta,
        };
        epsilon.SetAction(async parse =>
        {
            PrivacySpent spent;
            try
            {
                spent = SampledGaussian.Epsilon(
                    q: Number(parse.GetValue(q), "--q"),
                    sigma: Number(parse.GetValue(sigma), "--sigma"),
                    steps: Count(parse.GetValue(steps), "--steps"),
                    delta: Number(parse.GetValue(delta), "--delta"));
            }
            catch (Exception e) when (e is CommandInputException or ArgumentException)
            {
                await error.WriteLineAsync($"error: {Message(e)}");
                return 2;
            }
            if (!double.IsFinite(spent.Epsilon))
            {
                await error.WriteLineAsync($"error: --sigma: {parse.GetValue(sigma)} gives no finite ε; the noise multiplier must be positive");
                return 2;
            }
            await output.WriteLineAsync(new JsonObject { ["epsilon"] = spent.Epsilon, ["order"] = spent.Order }.ToJsonString());
            return 0;
        });
        return new Command("privacy", "Differential privacy accounting.") { epsilon };
    }

    private static double Number(string? text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CommandInputException($"{option}: '{text}' is not a number");

    private static long Count(string? text, string option) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CommandInputException($"{option}: '{text}' is not a whole number");

    /// <summary>The accountant names its parameter (q, sigma, steps, delta); the command names the option that carried it.</summary>
    private static string Message(Exception e) => e is ArgumentException { ParamName: { } name } argument
        ? $"--{name}: {argument.Message.Replace($" (Parameter '{name}')", "")}"
        : e.Message;
}
