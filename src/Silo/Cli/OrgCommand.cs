using System.CommandLine;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Membership;
using Federation.Contracts.Participants;
using Federation.Silo.Governance;
using static Federation.Silo.Cli.EmbeddedCommand;

namespace Federation.Silo.Cli;

/// <summary>
/// `federation org init | add | show`: an organisation makes its key and signs its membership entry (in its country's
/// storage), the operator admits entries in a new membership record and relays the chain, and anyone shows the verified
/// membership.
/// </summary>
public static class OrgCommand
{
    public static Command Create(TextWriter output, TextWriter error) => new("org", "Organisations: membership entries, admission, the verified membership.")
    {
        Init(output, error),
        Add(output, error),
        Show(output, error),
    };

    private static Command Init(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = new Option<string>("--id") { Description = "The organisation's id: its country and name, e.g. HU/budapest.", Required = true };
        var legalName = new Option<string>("--legal-name") { Description = "The organisation's legal name.", Required = true };
        var members = new Option<string[]>("--member")
        {
            Description = $"A member as NAME:ROLE, ROLE one of {GovernanceNames.All<MemberRole>()}; repeat for each (one at least an organisation-admin).",
            Required = true,
        };
        var outFile = new Option<FileInfo?>("--out") { Description = "Also write the signed entry to this file (for `org add --entry`)." };
        return Define("init", "Make the organisation's approver key (in the data directory's approvers/ folder, outside the cluster) and its signing key " +
            "(kept in its country's storage), and print its signed membership entry, approved by the approver key; with changed details, a new entry with the next serial.", output, error, async (parse, cancellation) =>
        {
            var (organisation, country) = Organisation(parse.GetValue(id), "--id");
            var details = new OrganisationDetails(Text(parse.GetValue(legalName), "--legal-name"), [.. parse.GetValue(members)!.Select(Member)]);
            if (!details.Members.Any(m => m.Role == GovernanceNames.Of(MemberRole.OrganisationAdmin)))
                throw new CommandInputException($"--member: at least one member must be an {GovernanceNames.Of(MemberRole.OrganisationAdmin)}");

            await using var session = await StartAsync(parse.GetValue(data)!, [country], cancellation);
            session.Approvers.Ensure(organisation);
            var entry = await session.Approvers.CreateOrganisationEntryAsync(session.Grains, organisation, details);
            if (parse.GetValue(outFile) is { } file)
                await File.WriteAllBytesAsync(file.FullName, entry, cancellation);
            return JsonNode.Parse(entry)!;
        }, data, id, legalName, members, outFile);
    }

    private static MemberDetails Member(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || string.IsNullOrWhiteSpace(text[..colon]))
            throw new CommandInputException($"--member: '{text}' is not NAME:ROLE (ROLE one of {GovernanceNames.All<MemberRole>()})");
        return new MemberDetails(text[..colon].Trim(), GovernanceNames.Of(Name<MemberRole>(text[(colon + 1)..].Trim(), $"--member '{text}'")));
    }

    private static Command Add(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var entries = new Option<FileInfo[]>("--entry") { Description = "A signed membership entry (from `org init`); repeat for several.", Required = true };
        var federation = new Option<string?>("--federation") { Description = "The federation's name (needed for its first membership record)." };
        return Define("add", "As the operator: admit organisations' entries in the next membership record and relay the chain to the silos.",
            output, error, async (parse, cancellation) =>
        {
            var signed = new List<SignedOrganisationEntry>();
            foreach (var file in parse.GetValue(entries)!)
                signed.Add(MembershipJson.ParseEntry(await File.ReadAllBytesAsync(ExistingFile(file, "--entry").FullName, cancellation), file.FullName));

            await using var session = await StartAsync(parse.GetValue(data)!, signed.Select(e => e.Entry.Country).Distinct(), cancellation);
            var before = session.Operator.Chain();
            var name = parse.GetValue(federation);
            if (before.IsEmpty && name is null)
                throw new CommandInputException("--federation: the federation's first membership record needs its name");
            if (!before.IsEmpty && name is not null && name != before[^1].Federation)
                throw new CommandInputException($"--federation: this is federation '{before[^1].Federation}', not '{name}'");
            IReadOnlyList<MembershipRecord> chain;
            try
            {
                chain = session.Operator.Admit(name ?? before[^1].Federation, signed);
            }
            catch (GovernanceException e)
            {
                throw new CommandInputException($"--entry: {e.Message}");
            }
            await FederationSetup.Publish(session.Grains.GetGrain<Contracts.Directory.IFederationDirectoryGrain>(0), session.Operator, chain);

            var known = before.IsEmpty ? [] : before[^1].Organisations.ToDictionary(o => o.Entry.Id, o => o.Entry.Serial);
            var latest = chain[^1];
            return new JsonObject
            {
                ["federation"] = latest.Federation,
                ["serial"] = latest.Serial,
                ["digest"] = latest.Digest,
                ["issuedAt"] = GovernanceNames.Time(latest.IssuedAt),
                ["admitted"] = new JsonArray([.. signed.Where(e => known.GetValueOrDefault(e.Entry.Id) != e.Entry.Serial).Select(e => (JsonNode)e.Entry.Id)]),
                ["organisations"] = new JsonArray([.. latest.Organisations.Select(o => (JsonNode)o.Entry.Id)]),
            };
        }, data, entries, federation);
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var data = DataOption();
        var id = new Option<string?>("--id") { Description = "Show only this organisation." };
        return Define("show", "The federation's membership as the silos verify it (against the operator's public key, operator/operator.pub).",
            output, error, async (parse, cancellation) =>
        {
            var only = parse.GetValue(id) is { } given ? Organisation(given, "--id") : ((string Id, string Country)?)null;
            await using var session = await StartAsync(parse.GetValue(data)!, [only?.Country ?? AnyMemberCountry(parse.GetValue(data)!)], cancellation);
            var membership = await session.Records.MembershipAsync();
            var organisations = membership.Organisations.OrderBy(o => o.Id, StringComparer.Ordinal).ToList();
            if (only is { Id: var organisation })
                organisations = [membership.Find(organisation)
                    ?? throw new CommandInputException($"--id: '{organisation}' is not a member of federation '{membership.Federation}' (membership record {membership.Serial})")];
            return new JsonObject
            {
                ["federation"] = membership.Federation,
                ["serial"] = membership.Serial,
                ["digest"] = membership.Digest,
                ["issuedAt"] = GovernanceNames.Time(membership.IssuedAt),
                ["organisations"] = new JsonArray([.. organisations.Select(o => (JsonNode)new JsonObject
                {
                    ["id"] = o.Id,
                    ["country"] = o.Country,
                    ["legalName"] = o.LegalName,
                    ["members"] = new JsonArray([.. o.Members.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["role"] = GovernanceNames.Of(m.Role) })]),
                    ["keyFingerprint"] = KeyFingerprint(o.SigningKey),
                    ["entrySerial"] = o.Serial,
                })]),
            };
        }, data, id);
    }
}
