using System.Text;
using System.Text.Json;
using FedCore.Audit.Export;

namespace FedCore.Tests.Audit.Export;

/// <summary>
/// Entry times bounded by the heads around them: the operator signs heads over whatever entries it writes, and the
/// witnesses see only heads, so only the verifier can tell an entry dated after the head that first covers it, or before
/// the head before that.
/// </summary>
public sealed class AuditExportTimeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("audit-export-time").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static DateTimeOffset TimeOf(ReadOnlyMemory<byte> entry) =>
        DateTimeOffset.Parse(JsonDocument.Parse(entry).RootElement.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    private string Export(string name, Func<int, byte[]> entry)
    {
        var entries = Enumerable.Range(0, 6).Select(entry).ToList();
        var directory = Path.Combine(_root, name);
        AuditExport.Write(directory, new AuditExportContent(entries, AuditExportFixture.Heads(entries), AuditExportFixture.Operator.PublicKey,
            AuditExportFixture.CountryKeys, null));
        return directory;
    }

    private static byte[] Dated(int i, string time) =>
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(AuditExportFixture.Entry(i)).Replace(
            JsonDocument.Parse(AuditExportFixture.Entry(i)).RootElement.GetProperty("time").GetString()!, time));

    [Fact]
    public void An_honest_export_verifies_with_its_entries_times_checked()
    {
        var result = AuditExportVerifier.Verify(Export("honest", AuditExportFixture.Entry), AuditExportFixture.Trust, entryTime: TimeOf);
        Assert.True(result.Ok, result.Problem);
    }

    [Fact]
    public void The_operator_cannot_date_an_entry_after_the_head_that_first_covers_it()
    {
        var directory = Export("post-dated", i => i == 5 ? Dated(5, "2025-03-01T10:00:00Z") : AuditExportFixture.Entry(i));
        Assert.True(AuditExportVerifier.Verify(directory, AuditExportFixture.Trust).Ok); // without times the heads and signatures hold
        var result = AuditExportVerifier.Verify(directory, AuditExportFixture.Trust, entryTime: TimeOf);
        Assert.False(result.Ok);
        Assert.Contains("entry 5", result.Problem);
        Assert.Contains("later than it was logged", result.Problem);
    }

    [Fact]
    public void The_operator_cannot_back_date_an_entry_before_the_head_before_the_one_that_covers_it()
    {
        var directory = Export("back-dated", i => i == 4 ? Dated(4, "2025-03-01T08:00:00Z") : AuditExportFixture.Entry(i));
        var result = AuditExportVerifier.Verify(directory, AuditExportFixture.Trust, entryTime: TimeOf);
        Assert.False(result.Ok);
        Assert.Contains("entry 4", result.Problem);
        Assert.Contains("back-dated", result.Problem);
    }
}
