using System.CommandLine;

namespace Federation.Silo.Cli;

/// <summary>The `federation` command: serve, round run, bench.</summary>
public static class FederationCommandLine
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("Federation: one model trained across countries; raw records stay in their country.")
        {
            ServeCommand.Create(error),
            new Command("round", "Training rounds.") { RoundRunCommand.Create(output, error) },
            BenchCommand.Create(output, error),
        };
        var parse = root.Parse(args);
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
