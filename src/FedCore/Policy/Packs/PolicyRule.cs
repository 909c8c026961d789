using FedCore.Policy.Language;

namespace FedCore.Policy.Packs;

/// <summary>What a rule does when its condition holds. YAML: <c>permit</c>, <c>deny</c>, <c>require</c>.</summary>
public enum RuleEffect
{
    /// <summary>A lawful basis or mechanism for a transfer: a governed transfer needs at least one that fires.</summary>
    Permit,
    /// <summary>A prohibition: when it fires, the decision is deny whatever permits fire.</summary>
    Deny,
    /// <summary>A condition that must hold: when it does not, the decision is deny with the rule's reason.</summary>
    Require,
}

/// <summary>What a rule is evaluated over. YAML: <c>over: plan</c> (once per plan) or <c>over: transfer</c> (once per derived transfer).</summary>
public enum RuleLevel
{
    Plan,
    Transfer,
}

/// <summary>The legal text a rule comes from: a document (GDPR, PIPL, the federation charter) and its article.</summary>
public sealed record RuleSource(string Document, string Article);

/// <summary>One rule of a pack, compiled. <see cref="File"/> and <see cref="Line"/> say where it is written.</summary>
public sealed record PolicyRule(
    string Id,
    string Title,
    RuleSource Source,
    DateOnly Effective,
    DateOnly? Expires,
    RuleLevel Over,
    Condition When,
    RuleEffect Effect,
    string Reason,
    string File,
    int Line)
{
    /// <summary>In force from its effective day (inclusive) until its expiry day (exclusive).</summary>
    public bool InForce(DateOnly day) => day >= Effective && (Expires is not { } expires || day < expires);
}
