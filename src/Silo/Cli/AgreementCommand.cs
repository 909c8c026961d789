using System.CommandLine;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using Federation.Contracts.Agreements;
using Federation.Silo.Governance;
using static Federation.Silo.Cli.EmbeddedCommand;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation agreement draft | propose | sign | suspend | resume | terminate | show`: an agreement's lifecycle
/// (FedCore/Governance/README.md). Drafting and proposing relay the terms; each party signs, suspends, resumes or terminates
/// through its own participant, with its own key. Every command prints the agreement as it then stands, with the digest
/// of its terms, which a steward reviews before signing.
/// </summary>
public static class AgreementCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var agreement = new Command("agreement", "Data-sharing agreements: draft, propose, sign, suspend, resume, terminate, show.")
        {
            Draft(output, error),
            Propose(output, error),
            Sign(output, error),
        };
        foreach (var kind in new[] { "suspend", "resume", "terminate" })
            agreement.Subcommands.Add(ChangeStatus(kind, output, error));
        agreement.Subcommands.Add(Show(output, error));
        return agreement;
    }

    private static Command Draft(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var terms = new Option<FileInfo>("--terms") { Description = "The agreement's terms (JSON); a draft or proposal with the same id gets these terms instead.", Required = true };
        return Define("draft", "Draft an agreement from its terms; checked against the membership and the catalog.", output, error, async (parse, cancellation) =>
        {
            var file = ExistingFile(parse.GetValue(terms)!, "--terms");
            var bytes = await File.ReadAllBytesAsync(file.FullName, cancellation);
            await using var session = await StartAsync(parse.GetValue(data)!, [AnyMemberCountry(parse.GetValue(data)!)], cancellation);
            var membership = await session.Records.MembershipAsync();
            // Read here first, so that an error names the file and the JSON path; the agreement's relay reads them again.
            var parsed = AgreementJson.ParseTerms(bytes, file.FullName,
                new AgreementReferences(membership, await session.Records.CatalogAsync(membership), DateTimeOffset.UtcNow));
            return await SummaryAsync(session, parsed.Id, await session.Grains.GetGrain<IAgreementGrain>(parsed.Id).Draft(bytes));
        }, data, terms);
    }

    private static Command Propose(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = IdOption();
        return Define("propose", "Freeze a draft's terms so that the parties can sign them.", output, error, async (parse, cancellation) =>
        {
            var agreementId = parse.GetValue(id)!;
            await using var session = await StartAsync(parse.GetValue(data)!, [AnyMemberCountry(parse.GetValue(data)!)], cancellation);
            return await SummaryAsync(session, agreementId, await session.Grains.GetGrain<IAgreementGrain>(agreementId).Propose());
        }, data, id);
    }

    private static Command Sign(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = IdOption();
        var party = PartyOption("The party that signs, e.g. HU/budapest (its approver key approves, its participant signs with its own key).");
        var digest = new Option<string>("--terms-digest") { Description = "The digest of the terms reviewed (as `agreement show` prints it).", Required = true };
        return Define("sign", "Sign a proposed agreement as one of its parties; the last signature makes it active.", output, error, async (parse, cancellation) =>
        {
            var agreementId = parse.GetValue(id)!;
            var (organisation, country) = Organisation(parse.GetValue(party), "--as");
            var reviewed = parse.GetValue(digest)!;
            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            var current = await session.Records.AgreementAsync(agreementId, await session.Records.MembershipAsync());
            if (current.TermsDigest != reviewed)
                throw new CommandInputException($"--terms-digest: the terms of agreement '{agreementId}' have digest {current.TermsDigest}, not {reviewed}; review them (`agreement show`) before signing");
            return await SummaryAsync(session, agreementId, await session.Approvers.SignAgreementAsync(session.Grains, organisation, agreementId, reviewed));
        }, data, id, party, digest);
    }

    private static Command ChangeStatus(string kind, TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = IdOption();
        var party = PartyOption($"The party that {kind}s the agreement (its approver key approves, its participant signs the change).");
        var reason = new Option<string>("--reason") { Description = "Why (recorded in the agreement, signed).", Required = true };
        var description = kind switch
        {
            "suspend" => "Suspend an active agreement: no round runs under it until the same party resumes it.",
            "resume" => "Resume an agreement this party suspended.",
            _ => "Terminate an agreement for good.",
        };
        return Define(kind, description, output, error, async (parse, cancellation) =>
        {
            var agreementId = parse.GetValue(id)!;
            var (organisation, country) = Organisation(parse.GetValue(party), "--as");
            var why = Text(parse.GetValue(reason), "--reason");
            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            var current = await session.Records.AgreementAsync(agreementId, await session.Records.MembershipAsync());
            return await SummaryAsync(session, agreementId, await session.Approvers.ChangeAgreementStatusAsync(session.Grains, organisation, current, kind, why));
        }, data, id, party, reason);
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = IdOption();
        return Define("show", "An agreement: its state now, terms digest, unsigned parties, status history, what does not verify, and its terms.",
            output, error, async (parse, cancellation) =>
        {
            var agreementId = parse.GetValue(id)!;
            await using var session = await StartAsync(parse.GetValue(data)!, [AnyMemberCountry(parse.GetValue(data)!)], cancellation);
            var document = await session.Grains.GetGrain<IAgreementGrain>(agreementId).Get()
                ?? throw new CommandInputException($"--id: there is no agreement '{agreementId}'");
            return await SummaryAsync(session, agreementId, document);
        }, data, id);
    }

    private static Option<string> IdOption() => new("--id") { Description = "The agreement's id.", Required = true };

    private static Option<string> PartyOption(string description) => new("--as") { Description = description, Required = true };

    /// <summary>The agreement document read as every silo reads it, against the verified membership, and checked at this time.</summary>
    private static async Task<JsonObject> SummaryAsync(EmbeddedSession session, string agreementId, byte[] document)
    {
        var membership = await session.Records.MembershipAsync();
        var agreement = FederationRecords.Read(document, agreementId, membership);
        var terms = agreement.Terms;
        var signed = agreement.Signatures.Select(s => s.Party).ToHashSet();
        return new JsonObject
        {
            ["id"] = agreement.Id,
            ["title"] = terms.Title,
            ["state"] = GovernanceNames.Of(agreement.StateAt(DateTimeOffset.UtcNow)),
            ["termsDigest"] = agreement.TermsDigest,
            ["parties"] = new JsonArray([.. terms.Parties.Select(p => (JsonNode)new JsonObject
            {
                ["organisation"] = p.Organisation,
                ["datasets"] = new JsonArray([.. p.Datasets.Select(d => (JsonNode)d)]),
                ["signed"] = signed.Contains(p.Organisation),
            })]),
            ["unsigned"] = new JsonArray([.. agreement.Unsigned.Select(p => (JsonNode)p)]),
            ["statusChanges"] = new JsonArray([.. agreement.StatusChanges.Select(c => (JsonNode)new JsonObject
            {
                ["sequence"] = c.Change.Sequence,
                ["kind"] = GovernanceNames.Of(c.Change.Kind),
                ["party"] = c.Change.Party,
                ["at"] = GovernanceNames.Time(c.Change.At),
                ["reason"] = c.Change.Reason,
            })]),
            // Empty once every party's signature and every status change verify with the keys of the membership.
            ["problems"] = new JsonArray([.. agreement.Problems(membership).Select(p => (JsonNode)$"{p.Term}: {p.Problem}")]),
            ["terms"] = JsonNode.Parse(AgreementJson.Write(terms)),
        };
    }
}
