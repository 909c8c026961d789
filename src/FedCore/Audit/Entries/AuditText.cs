using System.Text.RegularExpressions;

namespace FedCore.Audit.Entries;

/// <summary>Makes a message (an error, a rule's reason) fit a log text: one line, bounded, no long run the log would take for a key.</summary>
public static partial class AuditText
{
    /// <summary>
    /// <paramref name="text"/> on one line, each run of more than <see cref="AuditValue.MaxAlphanumericRun"/> letters and digits
    /// (a digest quoted in a message) cut to its first 12 and "…", at most <see cref="AuditValue.MaxTextLength"/> characters.
    /// </summary>
    public static string Line(string text)
    {
        var line = string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        line = LongRun().Replace(line, run => run.Value[..12] + "…");
        line = new string([.. line.Where(c => !char.IsControl(c))]);
        if (line.Length == 0)
            return "(no message)";
        return line.Length <= AuditValue.MaxTextLength ? line : line[..(AuditValue.MaxTextLength - 1)] + "…";
    }

    [GeneratedRegex("[A-Za-z0-9]{33,}")]
    private static partial Regex LongRun();
}
