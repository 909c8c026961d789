using System.Collections.Immutable;
using System.Globalization;
using FedCore.Governance.Canonical;
using FedCore.Policy.Language;
using FedCore.Policy.Yaml;

namespace FedCore.Policy.Packs;

/// <summary>Reads one rule pack file (policies/README.md, "A pack") and compiles its conditions.</summary>
internal static class PackReader
{
    private static readonly string[] PackKeys = ["pack", "title", "jurisdiction", "appliesTo", "governs", "lists", "rules"];
    private static readonly string[] RuleKeys = ["id", "title", "source", "effective", "expires", "over", "when", "effect", "reason"];
    private static readonly string[] SourceKeys = ["document", "article"];

    public static RulePack Read(YamlValue root, string file)
    {
        var pack = YamlFields.Of(root, file, YamlFields.Name(root, "pack", "pack", "the pack"), PackKeys);
        string id = pack.Id("pack");
        var lists = Lists(pack);
        // An empty list (a negative list with nothing notified yet) is a list of strings: the lists a law leaves empty are
        // lists of countries or names.
        var listType = new ObjectType("lists", [.. lists.Select(l => new FactField(l.Key, FactType.ListOf(l.Value.IsEmpty ? FactType.Text : TypeOfItem(l.Value[0])), false, "a list of the pack"))]);

        Condition? governs = null;
        if (pack.Optional("governs") is { } governsValue)
            governs = CompileCondition(pack, "governs", FactSchema.TransferScope(listType));

        Condition? appliesTo = pack.Optional("appliesTo") is null ? null : CompileCondition(pack, "appliesTo", FactSchema.ParticipantScope(listType));

        if (pack.Required("rules") is not YamlList { Items.Length: > 0 } ruleList)
            throw pack.Error(pack.Required("rules"), "'rules' must be a list of at least one rule");
        var rules = ImmutableArray.CreateBuilder<PolicyRule>();
        foreach (var item in ruleList.Items)
            rules.Add(Rule(item, file, id, listType));

        var transferRules = rules.Where(r => r.Over == RuleLevel.Transfer).ToList();
        if (transferRules.Count > 0 && governs is null)
            throw new PolicyLoadException(file, transferRules[0].Line, $"pack {id}: rule {transferRules[0].Id} is over transfers, but the pack has no 'governs' condition saying which transfers it rules on");
        if (governs is not null && !transferRules.Any(r => r.Effect == RuleEffect.Permit))
            throw pack.Error(pack.Required("governs"), "the pack governs transfers but has no transfer rule with effect permit: every transfer it governs would be denied for want of a lawful basis");

        return new RulePack(id, pack.Text("title"), pack.Text("jurisdiction"), governs, lists, rules.ToImmutable(), file) { AppliesTo = appliesTo };
    }

    private static PolicyRule Rule(YamlValue value, string file, string packId, ObjectType listType)
    {
        var fields = YamlFields.Of(value, file, YamlFields.Name(value, "id", "rule", $"pack {packId}: a rule"), RuleKeys);
        string id = fields.Id("id");
        var sourceFields = YamlFields.Of(fields.Required("source"), file, $"rule {id}: source", SourceKeys);
        var source = new RuleSource(sourceFields.Text("document"), sourceFields.Text("article"));

        var effective = fields.Date("effective");
        var expires = fields.OptionalDate("expires");
        if (expires <= effective)
            throw fields.Error(fields.Required("expires"), $"expires {Dates.Write(expires.Value)} is not after effective {Dates.Write(effective)}; a rule is in force from its effective day up to, not including, its expiry day");

        var over = Name<RuleLevel>(fields, "over");
        var effect = Name<RuleEffect>(fields, "effect");
        if (over == RuleLevel.Plan && effect == RuleEffect.Permit)
            throw fields.Error(fields.Required("effect"), "a plan-level rule cannot permit (a permit is a lawful basis for a transfer; use over: transfer), only deny or require");

        var scope = over == RuleLevel.Plan ? FactSchema.PlanScope(listType) : FactSchema.TransferScope(listType);
        var when = CompileCondition(fields, "when", scope);
        return new PolicyRule(id, fields.Text("title"), source, effective, expires, over, when, effect, fields.Text("reason"), file, value.Line);
    }

    private static T Name<T>(YamlFields fields, string key) where T : struct, Enum
    {
        var text = fields.Scalar(key);
        return Formats.TryParseName<T>(text.Text, out var value)
            ? value
            : throw fields.Error(text, $"'{key}' \"{text.Text}\" is not one of {Formats.Names<T>()}");
    }

    /// <summary>Compiles a condition; an error's line is the condition's own line (in a <c>|</c> block, the line inside it).</summary>
    private static Condition CompileCondition(YamlFields fields, string key, ImmutableDictionary<string, FactType> scope)
    {
        var text = fields.Scalar(key);
        try
        {
            return Condition.Compile(text.Text, scope);
        }
        catch (ConditionException e)
        {
            int offset = Math.Clamp(e.Offset, 0, text.Text.Length);
            int newlines = text.Text.AsSpan(0, offset).Count('\n');
            int line = text.Block ? text.Line + 1 + newlines : text.Line;
            string near = offset < text.Text.Length ? $" (at \"{Excerpt(text.Text, offset)}\")" : "";
            throw new PolicyLoadException(fields.File, line, $"{fields.Context}: {key}: {e.Message}{near}", e);
        }
    }

    private static string Excerpt(string text, int offset)
    {
        string rest = text[offset..].Split('\n')[0];
        return rest.Length <= 30 ? rest : rest[..30] + "…";
    }

    private static ImmutableSortedDictionary<string, ImmutableArray<object>> Lists(YamlFields pack)
    {
        var lists = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<object>>(StringComparer.Ordinal);
        if (pack.Optional("lists") is not { } value)
            return lists.ToImmutable();
        if (value is not YamlMap map)
            throw pack.Error(value, $"'lists' must map list names to lists, not {value.Describe()}");
        foreach (var (name, items) in map.Entries)
        {
            if (name.Text.Length == 0 || !char.IsAsciiLetter(name.Text[0]) || !name.Text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw pack.Error(name, $"list name '{name.Text}' must be letters, digits and '_', starting with a letter (it is read as lists.{name.Text})");
            if (items is not YamlList list)
                throw pack.Error(items, $"list {name.Text} must be a list of values, not {items.Describe()}");
            var values = ImmutableArray.CreateBuilder<object>();
            foreach (var item in list.Items)
            {
                if (item is not YamlText { Text.Length: > 0 } text)
                    throw pack.Error(item, $"list {name.Text} holds {item.Describe()}; it holds strings, numbers or dates");
                var parsed = ListItem(text);
                if (values.Count > 0 && TypeOfItem(parsed) != TypeOfItem(values[0]))
                    throw pack.Error(item, $"list {name.Text} mixes a {TypeOfItem(parsed).Describe()} with a {TypeOfItem(values[0]).Describe()}; quote strings that look like numbers or dates");
                values.Add(parsed);
            }
            lists[name.Text] = values.ToImmutable();
        }
        return lists.ToImmutable();
    }

    /// <summary>An unquoted number is a number and an unquoted yyyy-mm-dd a date; everything else (NO, true, DE) is a string.</summary>
    private static object ListItem(YamlText text)
    {
        if (text.Quoted)
            return text.Text;
        if (Dates.TryParse(text.Text, out var date))
            return date;
        if (text.Text.Length <= 40 && decimal.TryParse(text.Text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return number;
        return text.Text;
    }

    private static FactType TypeOfItem(object item) => item switch
    {
        decimal => FactType.Number,
        DateOnly => FactType.Date,
        _ => FactType.Text,
    };
}
