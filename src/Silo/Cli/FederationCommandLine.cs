using System.CommandLine;

namespace Federation.Silo.Cli;

/// <summary>The `federation` command: serve, org, dataset, agreement, round run, model, bench.</summary>
public static class FederationCommandLine
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("Federation: one model trained across countries; raw records stay in their country.")
        {
            ServeCommand.Create(error),
            OrgCommand.Create(output, error),
            DatasetCommand.Create(output, error),
            AgreementCommand.Create(output, error),
            new Command("round", "Training rounds.") { RoundRunCommand.Create(output, error) },
            ModelCommand.Create(output, error),
            BenchCommand.Create(output, error),
            PolicyCommand.Create(output, error),
            PrivacyCommand.Create(output, error),
            AuditCommand.Create(output, error),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // A missing or unknown option, or a value of the wrong type, is bad input like any other: exit code 2.
            foreach (var problem in parse.Errors)
                await error.WriteLineAsync($"error: {problem.Message}");
            return 2;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
