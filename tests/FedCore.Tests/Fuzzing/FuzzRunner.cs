using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace FedCore.Tests.Fuzzing;

/// <summary>
/// Feeds mutated inputs to a reader, from a fixed seed: each must be read (the reader names the outcome) or refused with
/// <typeparamref name="TRefusal"/>. Any other exception, or an input that takes more than two seconds (a hang, on a busy
/// machine), fails with the input shown. Prints the tally and the slowest input.
/// </summary>
internal static class FuzzRunner
{
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(2);

    public static Dictionary<string, int> Run<TRefusal>(ITestOutputHelper output, string name, int count, int seed,
        Func<Random, byte[]> mutate, Func<byte[], string> read) where TRefusal : Exception
    {
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int> { ["refused by the reader"] = 0 };
        var total = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            var input = mutate(random);
            var watch = Stopwatch.StartNew();
            string outcome;
            try
            {
                outcome = read(input);
            }
            catch (TRefusal)
            {
                outcome = "refused by the reader";
            }
            catch (Exception e)
            {
                Assert.Fail($"{name} input {i} threw {e.GetType().Name}: {e.Message}\n{Preview(input)}\n{e.StackTrace}");
                throw;
            }
            var elapsed = watch.Elapsed;
            Assert.True(elapsed < PerInputLimit, $"{name} input {i} took {elapsed.TotalMilliseconds:F0} ms\n{Preview(input)}");
            slowest = elapsed > slowest ? elapsed : slowest;
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine($"{name}: {count} inputs in {total.Elapsed.TotalSeconds:F1} s (slowest {slowest.TotalMilliseconds:F1} ms): "
            + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        return outcomes;
    }

    private static string Preview(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        return text.Length <= 2000 ? text : text[..2000] + "…";
    }
}
