using Microsoft.Extensions.Logging;

namespace Federation.Silo.Cli;

public static class ConsoleLogging
{
    /// <summary>Logs to standard error (standard output is kept for results); Orleans' own chatter only from warnings up.</summary>
    public static void Configure(ILoggingBuilder logging, LogLevel minimum)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(minimum);
        logging.AddFilter("Orleans", minimum < LogLevel.Warning ? LogLevel.Warning : minimum);
        logging.AddFilter("Microsoft", minimum < LogLevel.Warning ? LogLevel.Warning : minimum);
        logging.AddFilter("Polly", minimum < LogLevel.Warning ? LogLevel.Warning : minimum);
    }
}
