using System.Collections.Immutable;
using System.Text;
using FedCore.Policy.Yaml;

namespace FedCore.Policy.Packs;

/// <summary>
/// Loads a policy set: every <c>*.yaml</c> file directly in the folder, <c>settings.yaml</c> for the settings and each
/// other file one rule pack. All or nothing: the first problem (a YAML error, an unknown key, a condition that does not
/// type-check, a rule id given twice) throws <see cref="PolicyLoadException"/> naming the file and line.
/// </summary>
public static class PolicySetLoader
{
    public const string SettingsFile = "settings.yaml";

    private static readonly string[] SettingsKeys = ["updatesArePersonalData", "finalModelIsPersonalData"];

    /// <exception cref="PolicyLoadException">The folder or one of its files cannot be loaded.</exception>
    public static PolicySet Load(string directory) => Load(ReadFiles(directory), directory);

    /// <summary>The folder's policy files (<c>*.yaml</c>), in order, unparsed.</summary>
    /// <exception cref="PolicyLoadException">The folder is missing, holds a <c>.yml</c> file, or a file cannot be read.</exception>
    public static List<PolicyFile> ReadFiles(string directory)
    {
        if (!Directory.Exists(directory))
            throw new PolicyLoadException(directory, null, "the policy folder does not exist");
        var files = new List<PolicyFile>();
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                throw new PolicyLoadException(path, null, "policy files end in .yaml; this one would not be loaded");
            if (name.EndsWith(".yaml", StringComparison.Ordinal))
                files.Add(new PolicyFile(name, ReadFile(path)));
        }
        return files;
    }

    /// <summary>Loads files given in memory; errors name <c>{displayFolder}/{file.Path}</c>.</summary>
    /// <exception cref="PolicyLoadException">One of the files cannot be loaded, or they do not form a set.</exception>
    public static PolicySet Load(IReadOnlyList<PolicyFile> files, string displayFolder = "")
    {
        string Display(PolicyFile file) => displayFolder.Length == 0 ? file.Path : Path.Combine(displayFolder, file.Path);

        var settingsFile = files.FirstOrDefault(f => f.Path == SettingsFile)
            ?? throw new PolicyLoadException(Path.Combine(displayFolder, SettingsFile), null,
                "is missing: the policy set must state whether model updates and the final model are personal data");
        var settings = ReadSettings(Read(settingsFile, Display(settingsFile)), Display(settingsFile));

        var packs = ImmutableArray.CreateBuilder<RulePack>();
        var packFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var ruleLocations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files.Where(f => f.Path != SettingsFile).OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            string display = Display(file);
            var root = Read(file, display);
            var pack = PackReader.Read(root, display);
            if (!packFiles.TryAdd(pack.Id, display))
                throw new PolicyLoadException(display, root.Line, $"pack {pack.Id} is also defined in {packFiles[pack.Id]}; pack ids are unique in a policy set");
            foreach (var rule in pack.Rules)
                if (!ruleLocations.TryAdd(rule.Id, $"{rule.File}:{rule.Line}"))
                    throw new PolicyLoadException(display, rule.Line, $"rule id {rule.Id} is already used at {ruleLocations[rule.Id]}; rule ids are unique in a policy set");
            packs.Add(pack);
        }
        if (packs.Count == 0)
            throw new PolicyLoadException(displayFolder.Length == 0 ? "." : displayFolder, null, "holds no rule pack (*.yaml besides settings.yaml)");
        return new PolicySet(PolicySetHash.Compute(files), settings, packs.ToImmutable());
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PolicyLoadException(path, null, $"cannot be read: {e.Message}", e);
        }
    }

    private static YamlValue Read(PolicyFile file, string display)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(file.Content);
        }
        catch (DecoderFallbackException e)
        {
            throw new PolicyLoadException(display, null, $"is not UTF-8 (byte {e.Index + 1})", e);
        }
        return YamlDocument.Read(text.TrimStart('\uFEFF'), display);
    }

    private static PolicySettings ReadSettings(YamlValue root, string file)
    {
        var fields = YamlFields.Of(root, file, "the settings", SettingsKeys);
        return new PolicySettings(fields.Boolean("updatesArePersonalData"), fields.Boolean("finalModelIsPersonalData"));
    }
}
