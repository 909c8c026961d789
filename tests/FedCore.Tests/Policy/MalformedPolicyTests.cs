using FedCore.Policy;
using FedCore.Policy.Packs;
using static FedCore.Tests.Policy.PolicyFixture;

namespace FedCore.Tests.Policy;

/// <summary>
/// The malformed-policy corpus in Malformed/: each *.yaml file is loaded beside a valid settings.yaml and says on its
/// first line what the loader must answer (<c># expect LINE: FRAGMENT</c>); each folder is a whole policy set (a valid
/// settings.yaml is added if it has none) with the answer in expect.txt (<c>FILE:LINE: FRAGMENT</c>).
/// </summary>
public sealed class MalformedPolicyTests
{
    private static string Corpus => Path.Combine(Data.DataTestSupport.RepositoryRoot(), "tests", "FedCore.Tests", "Policy", "Malformed");

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Corpus).Order(StringComparer.Ordinal))
            cases.Add(Path.GetFileName(entry));
        return cases;
    }

    [Fact]
    public void The_corpus_has_at_least_twenty_cases() => Assert.True(Cases().Count >= 20);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_malformed_set_is_refused_naming_file_line_and_problem(string name)
    {
        string path = Path.Combine(Corpus, name);
        List<PolicyFile> files;
        string expected;
        if (Directory.Exists(path))
        {
            files = [.. Directory.GetFiles(path, "*.yaml").Select(f => PolicyFixture.File(Path.GetFileName(f), System.IO.File.ReadAllText(f)))];
            if (!files.Any(f => f.Path == "settings.yaml") && name != "missing-settings")
                files.Add(PolicyFixture.File("settings.yaml", Settings));
            expected = System.IO.File.ReadAllText(Path.Combine(path, "expect.txt")).Trim();
        }
        else
        {
            string text = System.IO.File.ReadAllText(path);
            string first = text.Split('\n')[0];
            Assert.StartsWith("# expect ", first);
            expected = $"{name}:{first["# expect ".Length..]}";
            files = [PolicyFixture.File("settings.yaml", Settings), PolicyFixture.File(name, text)];
        }

        var error = Assert.Throws<PolicyLoadException>(() => PolicySetLoader.Load(files, "policies"));
        Assert.StartsWith("policies/", error.File);
        Assert.Equal(error.Line is { } at ? $"{error.File}:{at}: {error.Problem}" : $"{error.File}: {error.Problem}", error.Message);
        string actual = error.Line is { } line ? $"{Path.GetFileName(error.File)}:{line}: {error.Problem}" : $"{Path.GetFileName(error.File)}: {error.Problem}";
        int colon = expected.IndexOf(": ", StringComparison.Ordinal);
        Assert.True(actual.StartsWith(expected[..colon] + ": ", StringComparison.Ordinal) && actual.Contains(expected[(colon + 2)..], StringComparison.Ordinal),
            $"expected {expected}\n  actual {actual}");
    }

    [Fact]
    public void A_bad_reload_keeps_the_last_good_set_in_force()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"federation-policies-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var file in Directory.GetFiles(RepositoryPolicies))
                System.IO.File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            var store = new PolicyStore();
            Assert.Null(store.Current);
            Assert.True(store.TryReload(folder, out var none));
            Assert.Null(none);
            var good = store.Current!;
            Assert.Equal(PolicySetLoader.Load(RepositoryPolicies).Hash, good.Hash);

            string federation = Path.Combine(folder, "federation.yaml");
            System.IO.File.WriteAllText(federation, System.IO.File.ReadAllText(federation).Replace("effect: require", "effect: requires"));
            Assert.False(store.TryReload(folder, out var error));
            Assert.Same(good, store.Current);
            Assert.Equal(federation, error!.File);
            Assert.Contains("'effect' \"requires\" is not one of permit, deny, require", error.Message);
            Assert.NotNull(error.Line);

            System.IO.File.WriteAllText(Path.Combine(folder, "extra.yml"), "pack: x");
            Assert.False(store.TryReload(folder, out error));
            Assert.Contains("extra.yml: policy files end in .yaml", error!.Message);
            Assert.Same(good, store.Current);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Readme_and_other_files_are_not_part_of_the_set()
    {
        var set = PolicySetLoader.Load(RepositoryPolicies);
        Assert.Equal(["dpdp", "federation", "gdpr", "lgpd", "pipl"], set.Packs.Select(p => p.Id));
        Assert.True(set.Settings.UpdatesArePersonalData && set.Settings.FinalModelIsPersonalData);
        Assert.Throws<PolicyLoadException>(() => PolicySetLoader.Load(Path.Combine(RepositoryPolicies, "missing")));
    }
}
