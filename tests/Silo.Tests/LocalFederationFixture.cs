using Federation.Silo.Cli;
using Federation.Silo.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Tests;

internal static class TestFederations
{
    public static LocalFederationOptions Options(string dataDirectory, params string[] countries) => new()
    {
        Countries = countries,
        DataDirectory = dataDirectory,
        ConfigureLogging = logging => ConsoleLogging.Configure(logging, LogLevel.Warning),
    };
}
