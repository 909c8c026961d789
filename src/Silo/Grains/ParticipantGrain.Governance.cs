using System.Collections.Immutable;
using FedCore.Aggregation.Integrity;
using FedCore.Aggregation.Protection;
using FedCore.Audit.Entries;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using FedCore.Governance.Approvals;
using FedCore.Governance.Datasets;
using FedCore.Governance.Membership;
using FedCore.Learning;
using FedCore.Policy.Decisions;
using FedCore.Policy.Plans;
using FedCore.Privacy.Budget;
using FedCore.Rounds;
using Federation.Contracts.Agreements;
using Federation.Contracts.Directory;
using Federation.Contracts.Errors;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Grains;

/// <summary>
/// The participant as its organisation: it signs its membership entry, its dataset entries and the agreements its
/// organisation enters, and it takes part in a job only under an agreement it reads and checks itself, against the
/// membership it verified (FedCore/Governance/README.md). Its signing key never leaves its country's storage.
/// </summary>
public sealed partial class ParticipantGrain
{
    public async Task<byte[]> DraftOrganisationEntry(OrganisationDetails details) => (await EntryAsync(details)).Draft;

    public async Task<byte[]> CreateOrganisationEntry(OrganisationDetails details, byte[] approval)
    {
        var (entry, _) = await EntryAsync(details);
        var approved = approvals.Verify(Key, approval, ApprovalSubject.OrganisationEntry(entry), clock.GetUtcNow());
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var signed = MembershipJson.WriteEntry(SignedOrganisationEntry.Create(entry, key));
        await UseApprovalAsync(approved);
        await Enrol(details.LegalName); // its profile's name follows the approved entry
        logger.LogInformation("Participant {Participant} signs its membership entry, serial {Serial}, as its organisation approved", Key, entry.Serial);
        return signed;
    }

    /// <summary>
    /// The entry it signs for these details, and its unsigned JSON: its key (made the first time), and the serial after
    /// that of its entry in the membership, or that entry itself when the details are the same.
    /// </summary>
    private async Task<(OrganisationEntry Entry, byte[] Draft)> EntryAsync(OrganisationDetails details)
    {
        var (country, organisation) = ParticipantKey.Parse(Key);
        if (state.State.SigningKey is null)
            await Enrol(details.LegalName); // makes its key
        ImmutableArray<Member> members;
        try
        {
            members = details.Members.Select((m, i) => new Member(m.Name, GovernanceNames.Parse<MemberRole>(m.Role, $"members[{i}].role"))).ToImmutableArray();
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("membership.invalid", $"Participant {Key}: {e.Message}");
        }
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var current = await CurrentEntryAsync();
        var entry = new OrganisationEntry(Key, country, details.LegalName, members, [.. key.PublicKey], 1);
        if (current is { } known)
        {
            if (!known.SigningKey.AsSpan().SequenceEqual(key.PublicKey))
                throw new FederationOperationException("membership.key-changed",
                    $"Participant {Key}: the membership lists another signing key for {organisation}; a key change needs the previous key's signature.");
            // The key was compared above; members are a set. (Record equality would compare the arrays by reference.)
            if (known.LegalName == entry.LegalName && known.Members.ToHashSet().SetEquals(members))
                entry = known;
            else
                entry = entry with { Serial = known.Serial + 1 };
        }
        try
        {
            return (entry, MembershipJson.WriteUnsignedEntry(entry));
        }
        catch (Exception e) when (e is GovernanceException or ArgumentException)
        {
            throw new FederationOperationException("membership.invalid", $"Participant {Key}: {e.Message}");
        }
    }

    /// <summary>Its own entry in the membership, if the federation has one and lists it.</summary>
    private async Task<OrganisationEntry?> CurrentEntryAsync()
    {
        if (await GrainFactory.GetGrain<IFederationDirectoryGrain>(0).GetMembership() is null)
            return null;
        return (await MembershipAsync()).Find(Key);
    }

    /// <summary>
    /// The membership as it verifies it: against the operator key its silo is configured with, and containing the record it
    /// verified last (which it then moves forward). The directory only relays it.
    /// </summary>
    private async Task<VerifiedMembership> MembershipAsync()
    {
        var pin = state.State.MembershipDigest is { } digest ? new MembershipPin(state.State.MembershipSerial, digest) : null;
        var membership = await records.MembershipAsync(pin);
        if (membership.Serial != state.State.MembershipSerial || membership.Digest != state.State.MembershipDigest)
        {
            state.State.MembershipSerial = membership.Serial;
            state.State.MembershipDigest = membership.Digest;
            await state.WriteStateAsync();
        }
        return membership;
    }

    /// <summary>
    /// An agreement as the relay serves it, verified as everywhere, and refused if it is older than one this participant
    /// already read (the same terms with fewer status changes: a suspension or termination rolled back).
    /// </summary>
    private async Task<Agreement> AgreementAsync(string agreementId, VerifiedMembership membership, DatasetCatalog? catalog = null)
    {
        var agreement = await records.AgreementAsync(agreementId, membership, catalog);
        await PinAsync(agreement, membership);
        return agreement;
    }

    /// <summary>
    /// Refuses a document with fewer status changes than it has read (a suspension or termination rolled back), and
    /// remembers the count of one whose status changes all verify: a forged change served once must not raise the bar.
    /// </summary>
    private async Task PinAsync(Agreement agreement, VerifiedMembership membership)
    {
        var key = $"{agreement.Id}@{agreement.TermsDigest}";
        int count = agreement.StatusChanges.Length;
        if (state.State.AgreementStatusChanges.TryGetValue(key, out var seen))
        {
            if (count < seen)
                throw new FederationOperationException("agreement.refused",
                    $"Participant {Key}: the relay serves agreement '{agreement.Id}' with {count} status changes, but it has read it with {seen}: an older document is refused.");
            if (count == seen)
                return;
        }
        if (agreement.Problems(membership).Any(p => p.Term == "statusChanges"))
            return;
        state.State.AgreementStatusChanges[key] = count;
        await state.WriteStateAsync();
    }

    /// <summary>What its steward says of the dataset in the catalog, or null for a dataset kept out of it.</summary>
    private DatasetPublication? PublicationOf(DatasetRegistration registration)
    {
        if (registration.Catalog is not { } details)
            return null;
        try
        {
            return DatasetPublication.Parse(details.Description, details.Categories, details.Jurisdiction, details.Licence, details.PrivacyUnit, details.EpsilonCap);
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("dataset.invalid", $"Participant {Key}, dataset '{registration.Name}': {e.Message}");
        }
    }

    /// <summary>Signs the catalog entry of a dataset just registered and hands it to the directory (metadata only).</summary>
    /// <summary>The catalog entry of a dataset it registers, stamped now (whole seconds).</summary>
    private DatasetEntry CatalogEntry(string name, DatasetPublication publication, DatasetSummary summary) =>
        publication.ToEntry(Key, name, summary.SchemaHash, summary.RowCount, summary.FileSha256,
            DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds()));

    /// <summary>Signs the entry and hands it to the directory, which relays it in the federation's catalog.</summary>
    private async Task PublishCatalogEntryAsync(DatasetEntry entry)
    {
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        byte[] catalog;
        try
        {
            catalog = DatasetCatalogJson.Write([SignedDatasetEntry.Create(entry, key)]);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("dataset.invalid", $"Participant {Key}, dataset '{entry.Name}': {e.Message}");
        }
        await GrainFactory.GetGrain<IFederationDirectoryGrain>(0).PublishDatasets(catalog);
    }

    public async Task<byte[]> SignAgreement(string agreementId, string termsDigest, byte[] approval)
    {
        RequireProfile();
        var membership = await MembershipAsync();
        var agreement = await AgreementAsync(agreementId, membership, await records.CatalogAsync(membership));
        var refusal = $"Participant {Key} refuses to sign agreement '{agreementId}'";
        if (agreement.TermsDigest != termsDigest)
            throw new FederationOperationException("agreement.refused", $"{refusal}: its terms (digest {agreement.TermsDigest[..12]}…) are not the ones reviewed ({termsDigest[..Math.Min(12, termsDigest.Length)]}…).");
        var party = agreement.Terms.Parties.FirstOrDefault(p => p.Organisation == Key)
            ?? throw new FederationOperationException("agreement.refused", $"{refusal}: it is not a party.");
        var missing = party.Datasets.Where(d => !state.State.Datasets.ContainsKey(d)).ToList();
        if (missing.Count > 0)
            throw new FederationOperationException("agreement.refused", $"{refusal}: it has no dataset {string.Join(", ", missing.Select(d => $"'{d}'"))} registered.");
        // The terms as it read them itself, not as the caller says: its organisation must have approved signing exactly these.
        var approved = approvals.Verify(Key, approval, ApprovalSubject.SignAgreement(agreement.Id, agreement.TermsDigest), clock.GetUtcNow());
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var signature = PartySignature.Create(agreement.Terms, Key, key);
        await UseApprovalAsync(approved);
        logger.LogInformation("Participant {Participant} signs agreement {Agreement} (terms {Digest}), as its organisation approved", Key, agreementId, agreement.TermsDigest);
        return await GrainFactory.GetGrain<IAgreementGrain>(agreementId).AddSignature(Key, [.. signature.Signature]);
    }

    public async Task<byte[]> ChangeAgreementStatus(string agreementId, string kind, string reason, byte[] approval)
    {
        RequireProfile();
        var membership = await MembershipAsync();
        var agreement = await AgreementAsync(agreementId, membership);
        if (!Enum.TryParse<StatusChangeKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            throw new FederationOperationException("agreement.refused", $"'{kind}' is not a status change (suspend, resume, terminate).");
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var change = agreement.NextStatusChange(parsed, Key, now, reason);
        // The change it is about to sign (the terms and the position it read itself): its organisation must have approved exactly this one.
        VerifiedApproval approved;
        try
        {
            approved = approvals.Verify(Key, approval, ApprovalSubject.Of(change), clock.GetUtcNow());
        }
        catch (ArgumentException e)
        {
            throw new FederationOperationException("agreement.refused", $"Participant {Key}: a {parsed.ToString().ToLowerInvariant()} of agreement '{agreementId}': {e.Message}");
        }
        using var key = ParticipantSigningKey.Import(state.State.SigningKey!);
        var signed = SignedStatusChange.Create(change, key);
        try
        {
            // The rules first (a resumption only by the party that suspended, …): a change they refuse is not sent, and the approval is not used up.
            agreement.ChangeStatus(signed, membership, now);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("agreement.refused", $"Participant {Key}: {e.Message}");
        }
        await UseApprovalAsync(approved);
        logger.LogWarning("Participant {Participant}: {Kind} agreement {Agreement}, as its organisation approved: {Reason}", Key, change.Kind, agreementId, reason);
        var document = await GrainFactory.GetGrain<IAgreementGrain>(agreementId).ChangeStatus(
            new StatusChangeMessage(change.Agreement, change.Terms, change.Sequence, kind.ToLowerInvariant(), change.Party, change.At, change.Reason, [.. signed.Signature]));
        // What it just signed is the least it will accept from the relay from now on.
        await PinAsync(FederationRecords.Read(document, agreementId, membership), membership);
        return document;
    }

    /// <summary>
    /// Records its organisation's approval as used, in its own storage, before what it signed under it leaves: a replay
    /// is refused and nothing is recorded. (A refusal after this point, by the relay, leaves the approval used.)
    /// </summary>
    private async Task UseApprovalAsync(VerifiedApproval approval)
    {
        try
        {
            ApprovalLedger.Use(state.State.UsedApprovals, approval, clock.GetUtcNow());
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("approval.refused", $"Participant {Key}: {e.Message}");
        }
        await state.WriteStateAsync();
    }

    // ---- Accepting a job ------------------------------------------------------------------------------------------

    public async Task<SignedPayload> AcceptJob(JobInvitation invitation)
    {
        try
        {
            return await AcceptJobAsync(invitation);
        }
        catch (FederationOperationException e) when (ParticipantKey.TryParse(invitation.JobId, out _, out _, out _))
        {
            await RecordAsync(actor => AuditEvents.ParticipantRefused(audit.Now, actor, audit.Country, invitation.JobId, Key, AuditText.Line(e.Message)));
            throw;
        }
    }

    private async Task<SignedPayload> AcceptJobAsync(JobInvitation invitation)
    {
        RequireProfile();
        var refusal = $"Participant {Key} refuses job {invitation.JobId}";
        if (!ParticipantKey.TryParse(invitation.JobId, out var aggregatorCountry, out _, out var idError))
            throw new FederationOperationException("job.refused", $"{refusal}: the job's id must name the aggregator's country ({idError}).");
        if (invitation.Protection.Scheme is not (CkksProtection.SchemeName or PlaintextSimulation.SchemeName))
            throw new FederationOperationException("job.refused", $"{refusal}: protection '{invitation.Protection.Scheme}' is not known (known: {CkksProtection.SchemeName}, {PlaintextSimulation.SchemeName}).");
        if (invitation.Protection.Scheme == PlaintextSimulation.SchemeName && !siloOptions.AllowSimulation)
            throw new FederationOperationException("job.refused", $"{refusal}: its silo does not allow the plaintext simulation (updates in the clear); the job asked for it.");
        var own = invitation.Participants.FirstOrDefault(p => p.ParticipantId == Key);
        if (own is not null && !state.State.Datasets.ContainsKey(own.DatasetName))
            throw new FederationOperationException("job.refused", $"{refusal}: it has no dataset '{own.DatasetName}'.");
        ModelKind modelClass;
        try
        {
            modelClass = ModelSpec.Parse(invitation.ModelSpecJson, $"model of job {invitation.JobId}").Kind;
        }
        catch (ModelSpecException e)
        {
            throw new FederationOperationException("job.refused", $"{refusal}: {e.Message}");
        }
        if (!(invitation.TrainFraction > 0 && invitation.TrainFraction < 1))
            throw new FederationOperationException("job.refused", $"{refusal}: its train fraction must lie strictly between 0 and 1, not {invitation.TrainFraction}.");
        try
        {
            invitation.Training.ToTrainingOptions(invitation.Seed);
        }
        catch (FederationOperationException e)
        {
            throw new FederationOperationException("job.refused", $"{refusal}: {e.Message}");
        }

        var membership = await MembershipAsync();
        var agreement = await AgreementAsync(invitation.AgreementId, membership);
        var plan = new JobPlan(invitation.JobId, invitation.AgreementId,
            [.. invitation.Participants.Select(p => new PlannedParticipant(p.ParticipantId, p.DatasetName))],
            invitation.Protection.Scheme == CkksProtection.SchemeName ? ProtectionScheme.Ckks : ProtectionScheme.PlaintextSimulation,
            invitation.Protection.UpdateBound, modelClass, aggregatorCountry, Key, invitation.Training.Privacy?.ToParameters(),
            invitation.Strategy is { } strategy ? new TrainingPlan(strategy.ToOptions(), invitation.Training.LearningRate) : null);
        PinnedTerms terms;
        try
        {
            terms = JobPlanCheck.Check(plan, agreement, membership, clock.GetUtcNow());
        }
        catch (GovernanceException e)
        {
            logger.LogWarning("{Refusal}: {Reason}", refusal, e.Message);
            throw new FederationOperationException("job.refused", $"{refusal}: {e.Message}");
        }

        // A dataset has one split for every job: two jobs with neighbouring fractions or other seeds would give moments
        // and scores that differ by a few rows. The first job it accepts for the dataset fixes both.
        long rows = Registered(terms.Dataset).Summary.RowCount;
        var split = state.State.Splits.GetValueOrDefault(terms.Dataset) ?? new DatasetSplitTerms(invitation.TrainFraction, invitation.Seed);
        if (split != new DatasetSplitTerms(invitation.TrainFraction, invitation.Seed))
            throw new FederationOperationException("job.refused",
                $"{refusal}: its dataset '{terms.Dataset}' is split with train fraction {split.TrainFraction:R} and seed {split.Seed} in every job (fixed by the first); this job asks {invitation.TrainFraction:R} and {invitation.Seed}.");
        if (Math.Min(rows * split.TrainFraction, rows * (1 - split.TrainFraction)) < MinimumSplitRows)
            throw new FederationOperationException("job.refused",
                $"{refusal}: a train fraction of {split.TrainFraction:R} leaves fewer than {MinimumSplitRows} of its {rows} rows on one side; figures over so few rows describe single people.");

        var parties = terms.Participants.Select(p => p.Organisation).Order(StringComparer.Ordinal).ToList();
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"federation/job-consent/v1\n{terms.JobId}\n{terms.AgreementId}\n{terms.TermsDigest}\n{terms.Membership.Serial}:{terms.Membership.Digest}\n{terms.Dataset}\n" +
            $"{string.Join(",", terms.Participants.Select(p => $"{p.Organisation}:{p.Dataset}"))}\n{invitation.Protection.Scheme}:{terms.UpdateBound:R}\n{terms.ModelClass}\n{terms.AggregatorCountry}\n" +
            $"{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(invitation.ModelSpecJson)))}\n{invitation.Training}\n{invitation.TrainFraction:R}:{invitation.Seed}\n{invitation.Strategy}"));
        var consent = Sign(JobConsentPurpose, invitation.JobId, 0, invitation.Protection.Scheme, digest);
        var pinned = new PinnedJob(parties, Math.Max(RoundTerms.AbsoluteMinimum, agreement.Terms.MinParticipants),
            parties.ToDictionary(p => p, p => membership.Find(p)!.SigningKey.ToArray()), invitation.Protection, terms.Dataset, clock.GetUtcNow(), null,
            terms.AgreementId, terms.TermsDigest, modelClass.ToString().ToLowerInvariant(), terms.AggregatorCountry, [.. terms.FinalModelDestinations], terms.ValidUntil,
            consent.Signature, invitation.ModelSpecJson, invitation.Training, split.TrainFraction, split.Seed,
            terms.Participants.ToDictionary(p => p.Organisation, p => p.Dataset), invitation.Strategy,
            MaxRowShare: agreement.Terms.Training?.MaxRowShare is { } share ? (double)share : null);

        if (state.State.Jobs.TryGetValue(invitation.JobId, out var earlier))
        {
            if (Differs(earlier, pinned) is { } term)
                throw new FederationOperationException("job.refused", $"{refusal}: it already accepted this job with other terms ({term} differ).");
            return consent;
        }
        state.State.Jobs[invitation.JobId] = pinned;
        state.State.Splits.TryAdd(terms.Dataset, split);
        await RecordAsync(actor => AuditEvents.ParticipantConsented(audit.Now, actor, audit.Country, invitation.JobId, Key, terms.Dataset), membership);
        await state.WriteStateAsync();
        logger.LogInformation("Participant {Participant} accepted job {Job} under agreement {Agreement}: {Parties} parties, at least {Minimum} per round, {Scheme} ±{Bound}",
            Key, invitation.JobId, terms.AgreementId, parties.Count, pinned.MinimumParticipants, pinned.Protection.Scheme, pinned.Protection.UpdateBound);
        return consent;
    }

    private const string JobConsentPurpose = "job-consent";

    /// <summary>The fewest rows of a dataset a participant lets either side of its split hold.</summary>
    private const int MinimumSplitRows = 10;

    private static string? Differs(PinnedJob a, PinnedJob b) =>
        !a.Parties.SequenceEqual(b.Parties) ? "the parties"
        : a.AgreementId != b.AgreementId || a.TermsDigest != b.TermsDigest ? "the agreement"
        : a.MinimumParticipants != b.MinimumParticipants ? "the minimum per round"
        : a.Protection != b.Protection ? "the protection"
        : a.DatasetName != b.DatasetName ? "the dataset"
        : a.ModelClass != b.ModelClass ? "the model class"
        : !(a.PartyDatasets ?? new Dictionary<string, string>()).OrderBy(d => d.Key).SequenceEqual((b.PartyDatasets ?? new Dictionary<string, string>()).OrderBy(d => d.Key)) ? "the parties' datasets"
        : a.ModelSpecJson != b.ModelSpecJson || a.Training != b.Training || a.TrainFraction != b.TrainFraction ? "the model or its training"
        : a.Strategy != b.Strategy ? "the server strategy"
        : a.PartyKeys.Any(k => !b.PartyKeys.TryGetValue(k.Key, out var other) || !other.AsSpan().SequenceEqual(k.Value)) ? "the parties' keys"
        : null;

    /// <summary>
    /// Its own country's law, decided by itself before it trains: the job's plan as this participant knows it (its pinned
    /// terms, the verified agreement, membership and catalog, its own dataset's ledger), evaluated under the packs of its
    /// silo that govern its own transfers (<see cref="SiloPolicies.DecideForAsync"/>), and records the decision in the audit log. It is not told the job's length, so it
    /// takes the job as recurring. Asked before anything of its rows leaves for the job (moments, an update, scores); a deny
    /// refuses, naming every reason; the job cannot skip it.
    /// </summary>
    private async Task RequirePolicyAllowsAsync(PinnedJob pinned, Agreement agreement, VerifiedMembership membership, string jobId, int? modelRound, string what)
    {
        var modelClass = ParseSpec(pinned.ModelSpecJson, jobId).Kind;
        var catalog = await records.CatalogAsync(membership);
        // Its own dataset's facts are its own: an entry that does not say what it registered (an older one, replayed by
        // the relay) is not decided on.
        var registered = Registered(pinned.DatasetName);
        var entry = catalog.Find(Key, pinned.DatasetName);
        if (registered.Registration.Catalog is not { } details || entry is null
            || !entry.Describes(registered.Summary.FileSha256, registered.Summary.SchemaHash, registered.Summary.RowCount, details.Categories, details.PrivacyUnit, details.EpsilonCap))
            throw new FederationOperationException("policy.denied",
                $"Participant {Key} refuses to {what} for job {jobId}: the catalog's entry for its dataset '{pinned.DatasetName}' is not the one it registered" +
                (registered.Registration.Catalog is null ? " (it registered the dataset without catalog details)" : "") + ", so its policies cannot decide on it.");
        var privacy = pinned.Training.Privacy?.ToParameters();
        var spent = new Dictionary<string, double>();
        if (privacy is not null)
            spent[Key] = LedgerOf(pinned.DatasetName).SpentAt(PrivacyCap.DeltaFor(privacy.Delta, agreement.Terms.DifferentialPrivacy?.Delta, registered.Summary.RowCount)).Epsilon;
        var datasets = pinned.PartyDatasets ?? new Dictionary<string, string> { [Key] = pinned.DatasetName };
        var facts = new JobPolicyFacts(jobId, modelRound, Recurring: true, RoundsAhead: 1, modelClass, Strategy: null,
            pinned.Protection.Scheme == CkksProtection.SchemeName ? ProtectionScheme.Ckks : ProtectionScheme.PlaintextSimulation, pinned.AggregatorCountry,
            [.. datasets.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new PlannedParticipant(d.Key, d.Value))],
            pinned.TrainFraction, pinned.Training.BatchSize, pinned.Training.Epochs, privacy);
        var decision = await policies.DecideForAsync(JobPolicyPlan.For(facts, agreement.Terms, membership, catalog, spent, clock.GetUtcNow()), Key);
        await RecordAsync(actor => DecisionAudit.Entry(decision, decision.ToJson(), DecisionSubject.ParticipantStep, audit.Now, actor, audit.Country,
            modelRound, participant: Key, step: AuditText.Line(what)), membership);
        if (!decision.Allowed)
            throw new FederationOperationException("policy.denied",
                $"Participant {Key} refuses to {what} for job {jobId}: its country's policies deny it (policy set {decision.PolicySetHash}): {string.Join("; ", decision.DenyReasons)}");
        logger.LogInformation("Participant {Participant}: its policies allow it to {What} for job {Job} (policy set {Hash}, packs {Packs})",
            Key, what, jobId, decision.PolicySetHash, string.Join(", ", decision.Packs));
    }

    /// <summary>
    /// The job's agreement in force (<see cref="AgreementInForceAsync"/>) and its own country's law allowing the step
    /// (<see cref="RequirePolicyAllowsAsync"/>), on one reading of the membership: asked before every step that sends
    /// something of its rows.
    /// </summary>
    private async Task<Agreement> RequireAllowedAsync(string jobId, int? modelRound, string what)
    {
        var (agreement, membership) = await AgreementInForceAsync(jobId, what);
        await RequirePolicyAllowsAsync(PinnedFor(jobId), agreement, membership, jobId, modelRound, what);
        return agreement;
    }

    private async Task RequireAgreementInForceAsync(string jobId, string what) => await AgreementInForceAsync(jobId, what);

    /// <summary>
    /// Refuses a round of a job whose agreement is no longer in force: suspended, terminated, expired, or with other terms
    /// than those it accepted. Read afresh each round, from the relay, and verified as everywhere.
    /// </summary>
    private async Task<(Agreement Agreement, VerifiedMembership Membership)> AgreementInForceAsync(string jobId, string what)
    {
        var pinned = PinnedFor(jobId);
        var membership = await MembershipAsync();
        var agreement = await AgreementAsync(pinned.AgreementId, membership);
        var now = clock.GetUtcNow();
        var refusal = $"Participant {Key} refuses to {what} for job {jobId}: agreement '{pinned.AgreementId}'";
        if (agreement.TermsDigest != pinned.TermsDigest)
            throw new FederationOperationException("agreement.lapsed", $"{refusal} now has other terms than those it accepted the job under.");
        var agreementState = agreement.StateAt(now);
        if (agreementState != AgreementState.Active)
        {
            var reason = agreement.StatusChanges.LastOrDefault()?.Change is { } last && agreementState is AgreementState.Suspended or AgreementState.Terminated
                ? $" ({last.Kind.ToString().ToLowerInvariant()} by {last.Party}: {last.Reason})"
                : "";
            throw new FederationOperationException("agreement.lapsed", $"{refusal} is {agreementState.ToString().ToLowerInvariant()}{reason}.");
        }
        try
        {
            records.Verify(agreement, membership);
        }
        catch (GovernanceException e)
        {
            throw new FederationOperationException("agreement.lapsed", $"{refusal} no longer verifies: {e.Message}");
        }
        return (agreement, membership);
    }
}
