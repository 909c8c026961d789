using FedCore.Governance.Agreements;
using FedCore.Governance.Membership;
using FedCore.Jobs;
using Federation.Contracts.Agreements;
using Federation.Contracts.Jobs;
using Federation.Contracts.Models;
using Federation.Contracts.Participants;
using Federation.Silo.Cli;
using Federation.Silo.Governance;
using Federation.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>Registers <paramref name="change"/> of the options the silo was built with in their place (the last registration wins).</summary>
    public static void ChangeSiloOptions(ISiloBuilder silo, Func<FederationSiloOptions, FederationSiloOptions> change) =>
        silo.ConfigureServices(services => services.AddSingleton(
            change((FederationSiloOptions)services.Last(d => d.ServiceType == typeof(FederationSiloOptions)).ImplementationInstance!)));

    public static FederationManifest SampleManifest => FederationManifest.Load(Path.Combine(TestPaths.HeartSample, "federation.json"));

    public static JobDefinition SampleJob => JobDefinition.Load(Path.Combine(TestPaths.HeartSample, "job.json"));

    /// <summary>
    /// An invitation to <paramref name="jobId"/> over <paramref name="parties"/> (each with the sample's dataset) as the job
    /// grain sends it: the sample job's agreement, protection, model and training unless told otherwise.
    /// </summary>
    public static JobInvitation Invitation(string jobId, IEnumerable<string> parties, string? agreement = null, ProtectionSettings? protection = null, string? model = null)
    {
        var job = SampleJob;
        var spec = JobSpecifications.From(job, jobId);
        return new JobInvitation(jobId, agreement ?? job.Agreement, parties.Select(p => new JobParticipant(p, job.DatasetName)).ToList(),
            protection ?? spec.Protection, model ?? job.ModelJson, spec.Training, job.TrainFraction, job.Seed, spec.Strategy);
    }

    /// <summary>The sample federation set up as the embedded default does: members, datasets, and its active agreement.</summary>
    public static Task SetUpSampleAsync(LocalFederation federation) =>
        FederationSetup.EnsureAsync(federation.Grains, federation.Operator!, federation.Approvers!, SampleManifest);

    /// <summary>Id of the sample agreement's plaintext-simulation twin (see <see cref="AddSimulationAgreementAsync"/>).</summary>
    public const string SimulationAgreement = "fed-heart-disease-2026-simulation";

    /// <summary>The sample agreement's twin for the plaintext simulation, active: an agreement must allow the simulation.</summary>
    public static Task AddSimulationAgreementAsync(LocalFederation federation) =>
        FederationSetup.EnsureAgreementAsync(federation.Grains, federation.Operator!, federation.Approvers!,
            FederationSetup.Variant(File.ReadAllBytes(Path.Combine(TestPaths.HeartSample, "agreement.json")), SimulationAgreement, "plaintext-simulation"), "simulation twin");

    /// <summary>The membership as the operator of <paramref name="federation"/> issued it, verified.</summary>
    public static VerifiedMembership Membership(LocalFederation federation) => MembershipChain.Verify(federation.Operator!.PublicKey, federation.Operator.Chain());

    /// <summary>The agreement as its relay serves it now, read against the membership.</summary>
    public static async Task<Agreement> AgreementAsync(LocalFederation federation, string agreementId) =>
        FederationRecords.Read((await federation.Grains.GetGrain<IAgreementGrain>(agreementId).Get())!, agreementId, Membership(federation));

    /// <summary>A party signs the agreement's terms, approved (as its organisation would) with its approver key.</summary>
    public static Task<byte[]> SignAgreementAsync(LocalFederation federation, string party, string agreementId, string termsDigest) =>
        federation.Approvers!.SignAgreementAsync(federation.Grains, party, agreementId, termsDigest);

    /// <summary>A party suspends, resumes or terminates the agreement as it now stands, approved with its approver key.</summary>
    public static async Task<byte[]> ChangeAgreementStatusAsync(LocalFederation federation, string party, string agreementId, string kind, string reason) =>
        await federation.Approvers!.ChangeAgreementStatusAsync(federation.Grains, party, await AgreementAsync(federation, agreementId), kind, reason);

    /// <summary>Runs <paramref name="job"/> as <paramref name="id"/> to its end (at most 5 minutes); it must complete.</summary>
    public static async Task<JobStatus> RunToCompletionAsync(LocalFederation federation, JobDefinition job, string id)
    {
        var status = await RunAsync(federation, job, id);
        Assert.True(status.Phase == JobPhase.Completed, $"{id}: {status.Phase} {status.Error}");
        return status;
    }

    /// <summary>
    /// Runs <paramref name="job"/> as <paramref name="id"/> to completion in a federation of its own (the sample set up,
    /// and the simulation's agreement where <paramref name="options"/> allow simulation): its status and final model. Two
    /// runs of one job id start from the same model (a job's version 0 is drawn for the job), so their models compare.
    /// </summary>
    public static async Task<(JobStatus Status, float[] Model)> RunInOwnFederationAsync(LocalFederationOptions options, JobDefinition job, string id)
    {
        await using var federation = await LocalFederation.StartAsync(options);
        await SetUpSampleAsync(federation);
        if (options.AllowSimulation)
            await AddSimulationAgreementAsync(federation);
        var status = await RunToCompletionAsync(federation, job, id);
        var model = await federation.Grains.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(id, job.Rounds)).Get();
        return (status, model!.Parameters.Inline!.AsFloats());
    }

    /// <summary>Starts the job and waits (at most five minutes) until it completes or fails.</summary>
    public static async Task<JobStatus> RunAsync(LocalFederation federation, JobDefinition job, string id)
    {
        var grain = federation.Grains.GetGrain<ITrainingJobGrain>(id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        return await JobProgress.WaitAsync(grain, await grain.Start(JobSpecifications.From(job, id)), cancellationToken: timeout.Token);
    }
}
