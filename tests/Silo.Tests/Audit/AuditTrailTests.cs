using System.Text;
using FedCore.Audit.Entries;
using FedCore.Privacy;
using Federation.Contracts.Audit;
using Federation.Contracts.Jobs;
using Federation.Silo.Hosting;

namespace Federation.Silo.Tests.Audit;

/// <summary>
/// What the log holds after the sample federation is set up and runs a DP job: real silos, real grains, every entry read
/// back with the closed reader. The order of events is the claim "recorded before it takes effect"; the scan of the log's
/// bytes is the claim "no secret and no raw record enters the log".
/// </summary>
public sealed class AuditTrailTests
{
    private static readonly string[] Hospitals = ["CH/zurich", "HU/budapest", "US/cleveland", "US/long-beach"];

    [Fact]
    public async Task A_dp_job_leaves_every_step_in_order_and_nothing_of_its_rows_or_keys()
    {
        using var dir = new TempDirectory("federation-audit-trail");
        await using var federation = await LocalFederation.StartAsync(TestFederations.Options(dir.Path, "US", "HU", "CH"));
        await TestFederations.SetUpSampleAsync(federation);
        var job = TestFederations.SampleJob with
        {
            Rounds = 2,
            Training = TestFederations.SampleJob.Training with { BatchSize = 32, Privacy = new DpSgdParameters(1, 1.1, 1e-5) },
        };
        var status = await TestFederations.RunToCompletionAsync(federation, job, "CH/audited");

        var log = federation.Grains.GetGrain<IAuditLogGrain>(0);
        var bytes = await log.GetEntries(0, int.MaxValue);
        var entries = bytes.Select((b, i) => AuditEntryJson.Read(b, $"entry {i}")).ToList();
        int At(AuditEventKind kind, Func<AuditEntry, bool>? where = null, int from = 0)
        {
            int i = entries.FindIndex(from, e => e.Kind == kind && (where?.Invoke(e) ?? true));
            Assert.True(i >= 0, $"no {AuditSchema.WireName(kind)} entry{(from > 0 ? $" after entry {from}" : "")}; the job's notes: {string.Join(" | ", status.Notes)}");
            return i;
        }
        bool Of(AuditEntry e, string job) => e.Fields.TryGetValue("job", out var v) && v.AsString == job;
        string Text(AuditEntry e, string field) => e[field]!.AsString;

        // Set-up: membership, then each dataset, then the agreement from draft to active.
        int issued = At(AuditEventKind.MembershipIssued);
        Assert.Equal(Hospitals, entries.Where(e => e.Kind == AuditEventKind.OrganisationAdmitted).Select(e => Text(e, "organisation")).Order());
        Assert.All(entries.Where(e => e.Kind == AuditEventKind.DatasetRegistered), e => Assert.True(entries.IndexOf(e) > issued));
        Assert.Equal(Hospitals, entries.Where(e => e.Kind == AuditEventKind.DatasetRegistered).Select(e => Text(e, "organisation")).Order());
        int drafted = At(AuditEventKind.AgreementDrafted);
        int activated = At(AuditEventKind.AgreementActivated, from: drafted);
        Assert.Equal(Hospitals, entries.Where((e, i) => e.Kind == AuditEventKind.AgreementSigned && i > drafted && i < activated).Select(e => Text(e, "party")).Order());

        // The job: started, decided (and every silo's policy set recorded before its first decision), consented, rounds.
        int started = At(AuditEventKind.JobStarted, e => Of(e, "CH/audited"));
        Assert.True(started > activated);
        int jobDecision = At(AuditEventKind.PolicyDecided, e => Of(e, "CH/audited") && Text(e, "subject") == "job", started);
        Assert.Equal("allow", Text(entries[jobDecision], "effect"));
        Assert.True(At(AuditEventKind.PolicySetLoaded) < jobDecision);
        Assert.Equal(Hospitals, entries.Where(e => e.Kind == AuditEventKind.ParticipantConsented && Of(e, "CH/audited")).Select(e => Text(e, "participant")).Order());
        for (int round = 1; round <= 2; round++)
        {
            bool InRound(AuditEntry e) => Of(e, "CH/audited") && e.Fields.TryGetValue("round", out var r) && r.AsInteger == round;
            int decided = At(AuditEventKind.PolicyDecided, e => InRound(e) && Text(e, "subject") == "round-attempt", started);
            int roundStarted = At(AuditEventKind.RoundStarted, InRound, decided);
            int keyed = At(AuditEventKind.RoundKey, InRound, roundStarted);
            Assert.Equal(Hospitals, entries[keyed]["participants"]!.Items.Select(p => p.AsString));
            foreach (var hospital in Hospitals)
            {
                // Each participant decides under its own law and charges its budget before anything of its rows leaves.
                int ownDecision = At(AuditEventKind.PolicyDecided, e => InRound(e) && Text(e, "subject") == "participant-step" && Text(e, "participant") == hospital
                    && Text(e, "step").StartsWith("train", StringComparison.Ordinal), roundStarted);
                int reserved = At(AuditEventKind.PrivacyReserved, e => InRound(e) && Text(e, "organisation") == hospital, ownDecision);
                At(AuditEventKind.UpdateSealed, e => InRound(e) && Text(e, "participant") == hospital, reserved);
                Assert.Equal(1.1, entries[reserved]["noiseMultiplier"]!.AsNumber);
            }
            int version = At(AuditEventKind.ModelVersion, InRound, keyed);
            int finished = At(AuditEventKind.RoundFinished, InRound, version);
            Assert.Equal("completed", Text(entries[finished], "outcome"));
            Assert.InRange(entries[finished]["accuracy"]!.AsNumber, 0, 1);
            var stored = await federation.Grains.GetGrain<Federation.Contracts.Models.IModelVersionGrain>(
                Federation.Contracts.Models.ModelVersionKey.Format("CH/audited", round)).Get();
            Assert.Equal(stored!.ParametersSha256, entries[version]["modelDigest"]!.AsDigest.Hex);
        }
        // After the last round, the final model explained: importance of each input over every test row, and its coefficients.
        int explained = At(AuditEventKind.ModelExplained, e => Of(e, "CH/audited"), started);
        var explanation = entries[explained];
        Assert.Equal(2, explanation["version"]!.AsInteger);
        var final = await federation.Grains.GetGrain<Federation.Contracts.Models.IModelVersionGrain>(Federation.Contracts.Models.ModelVersionKey.Format("CH/audited", 2)).Get();
        Assert.Equal(final!.ParametersSha256, explanation["modelDigest"]!.AsDigest.Hex);
        Assert.Equal(15, explanation["features"]!.Items.Length);
        Assert.Equal(15, explanation["coefficients"]!.Items.Length);
        Assert.All(explanation["importance"]!.Items, v => Assert.InRange(v.AsNumber, -1, 1));
        Assert.Contains(explanation["importance"]!.Items, v => v.AsNumber > 0.01); // some input matters to a model at ~80 % accuracy
        Assert.InRange(explanation["baselineAccuracy"]!.AsNumber, 0.5, 1);
        Assert.True(At(AuditEventKind.JobFinished, e => Of(e, "CH/audited") && Text(e, "outcome") == "completed") > explained);

        // The whole log, as text: no row of any hospital's file, no private key of the operator or of an approver.
        var all = Encoding.UTF8.GetString([.. bytes.SelectMany(b => b.Append((byte)'\n'))]);
        foreach (var participant in TestFederations.SampleManifest.Participants)
            foreach (var line in File.ReadLines(participant.Datasets[0].CsvPath).Skip(1).Where(l => l.Length > 0))
                Assert.DoesNotContain(line, all);
        var privateKeys = Directory.GetFiles(dir.Path, "*.key", SearchOption.AllDirectories);
        Assert.NotEmpty(privateKeys);
        foreach (var key in privateKeys.Select(File.ReadAllBytes))
        {
            Assert.DoesNotContain(Convert.ToBase64String(key)[..40], all);
            Assert.DoesNotContain(Convert.ToHexStringLower(key)[..40], all, StringComparison.OrdinalIgnoreCase);
        }
    }
}
