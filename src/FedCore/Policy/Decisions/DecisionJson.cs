using System.Collections.Immutable;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;
using FedCore.Policy.Language;
using FedCore.Policy.Packs;

namespace FedCore.Policy.Decisions;

/// <summary>
/// A decision as canonical JSON (<see cref="CanonicalJson.WriteIndented"/>): the same decision gives the same bytes, so
/// it can be stored with a round and hashed. The fields are described in policies/README.md, "Decisions".
/// </summary>
public static class DecisionJson
{
    public static byte[] Write(PolicyDecision decision) => CanonicalJson.WriteIndented(ToNode(decision));

    public static JsonObject ToNode(PolicyDecision decision)
    {
        var node = new JsonObject
        {
            ["decision"] = decision.Allowed ? "allow" : "deny",
            ["policySet"] = decision.PolicySetHash,
            ["at"] = Formats.Time(decision.At),
            ["job"] = decision.JobId,
            ["exporter"] = decision.Exporter,
            ["settings"] = new JsonObject
            {
                ["updatesArePersonalData"] = decision.Settings.UpdatesArePersonalData,
                ["finalModelIsPersonalData"] = decision.Settings.FinalModelIsPersonalData,
            },
            ["packs"] = Array(decision.Packs.Select(p => (JsonNode?)p)),
            ["denyReasons"] = Array(decision.DenyReasons.Select(r => (JsonNode?)r)),
            ["planRules"] = Array(decision.PlanRules.Select(Rule)),
            ["transfers"] = Array(decision.Transfers.Select(Transfer)),
        };
        if (decision.Round is { } round)
            node["round"] = round;
        return node;
    }

    private static JsonNode Transfer(TransferDecision decision)
    {
        var transfer = decision.Transfer;
        return new JsonObject
        {
            ["transfer"] = transfer.Label,
            ["from"] = transfer.From,
            ["to"] = transfer.To,
            ["kind"] = transfer.KindName,
            ["organisation"] = transfer.Sender.Organisation,
            ["recipient"] = transfer.Recipient.Organisation,
            ["decision"] = decision.Allowed ? "allow" : "deny",
            ["packs"] = Array(decision.Packs.Select(ruling =>
            {
                var node = new JsonObject
                {
                    ["pack"] = ruling.Pack,
                    ["governs"] = ruling.Governance switch
                    {
                        GovernsOutcome.Governed => "yes",
                        GovernsOutcome.NotGoverned => "no",
                        _ => "undetermined",
                    },
                    ["facts"] = Facts(ruling.Facts),
                    ["decision"] = ruling.Governance == GovernsOutcome.NotGoverned ? "not governed" : ruling.Allows ? "allow" : "deny",
                    ["rules"] = Array(ruling.Rules.Select(Rule)),
                };
                if (ruling.MissingFact is { } missing)
                    node["missingFact"] = missing;
                return (JsonNode?)node;
            })),
        };
    }

    private static JsonNode? Rule(RuleEvaluation evaluation)
    {
        var rule = evaluation.Rule;
        var node = new JsonObject
        {
            ["rule"] = rule.Id,
            ["pack"] = evaluation.Pack,
            ["title"] = rule.Title,
            ["source"] = new JsonObject { ["document"] = rule.Source.Document, ["article"] = rule.Source.Article },
            ["effect"] = Formats.Name(rule.Effect),
            ["outcome"] = evaluation.Outcome switch
            {
                RuleOutcome.Fired => "fired",
                RuleOutcome.DidNotFire => "did not fire",
                RuleOutcome.Held => "held",
                RuleOutcome.Failed => "failed",
                RuleOutcome.NotInForce => "not in force",
                _ => "undetermined",
            },
            ["facts"] = Facts(evaluation.Facts),
            ["reason"] = rule.Reason,
        };
        if (evaluation.MissingFact is { } missing)
            node["missingFact"] = missing;
        return node;
    }

    /// <summary>Each fact read with its value; null for a fact not given, a list of objects by its size.</summary>
    private static JsonObject Facts(ImmutableSortedDictionary<string, object> facts) =>
        new(facts.Select(f => KeyValuePair.Create(f.Key, Value(f.Value))));

    private static JsonNode? Value(object value) => value switch
    {
        bool b => b,
        decimal d => d,
        string s => s,
        DateOnly date => Dates.Write(date),
        ImmutableArray<object> { IsEmpty: false } items when items[0] is FactObject => $"{items.Length} items",
        ImmutableArray<object> items => Array(items.Select(Value)),
        _ => null,
    };

    private static JsonArray Array(IEnumerable<JsonNode?> items) => new([.. items]);
}
