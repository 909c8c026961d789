using System.Text.Json.Nodes;
using Federation.Silo.Cli;

namespace Federation.Silo.Tests.Cli;

/// <summary>What one `federation` command printed and returned.</summary>
internal sealed record CliResult(string[] Args, int Exit, string Output, string Error)
{
    public JsonNode Json => JsonNode.Parse(Output)!;

    public CliResult Succeeded()
    {
        Assert.True(Exit == 0, $"federation {string.Join(' ', Args)} exited {Exit}:\n{Error}");
        return this;
    }

    /// <summary>Exit code 2, nothing on standard output, and a message naming each of <paramref name="named"/>.</summary>
    public CliResult Refused(params string[] named)
    {
        Assert.True(Exit == 2, $"federation {string.Join(' ', Args)} exited {Exit}, not 2:\n{Output}\n{Error}");
        Assert.Equal("", Output);
        foreach (var name in named)
            Assert.True(Error.Contains(name, StringComparison.Ordinal), $"federation {string.Join(' ', Args)}: the message does not name \"{name}\":\n{Error}");
        return this;
    }
}

/// <summary>Runs `federation` commands in this process, over one data directory, with their output captured.</summary>
internal sealed class CliRunner(string dataDirectory)
{
    public string DataDirectory { get; } = dataDirectory;

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var all = args.Concat(["--data", DataDirectory]).ToArray();
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await FederationCommandLine.RunAsync(all, output, error);
        return new CliResult(args, exit, output.ToString(), error.ToString());
    }

    public async Task<JsonNode> SucceedsAsync(params string[] args) => (await RunAsync(args)).Succeeded().Json;
}
