using FedCore.Policy;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using static FedCore.Tests.Policy.PolicyFixture;

namespace FedCore.Tests.Policy;

/// <summary>
/// A pack list may be empty — a negative list with nothing notified yet, like India's under DPDP s.16(1) — and is then a
/// list of strings: membership is false, and a comparison with another type is still a load error.
/// </summary>
public sealed class EmptyPackListTests
{
    private static string Pack(string when) => $$"""
        pack: negative
        title: A negative list with nothing on it
        jurisdiction: test
        lists:
          restricted: []
        governs: transfer.from == "HU"
        rules:
          - id: not-restricted
            title: Not restricted
            source: { document: Test, article: "1" }
            effective: 2026-01-01
            over: transfer
            effect: permit
            when: {{when}}
            reason: Because.
        """;

    [Fact]
    public void An_empty_list_loads_as_strings_and_holds_nothing()
    {
        var decision = Decide(Set(("negative.yaml", Pack("transfer.to not in lists.restricted and not (transfer.to in lists.restricted)"))));
        var rulings = decision.Transfers.Where(t => t.Transfer.From == "HU").SelectMany(t => t.Packs.Where(p => p.Pack == "negative")).ToList();
        Assert.NotEmpty(rulings);
        Assert.All(rulings, r => Assert.Equal(RuleOutcome.Fired, r.Rules.Single().Outcome));
    }

    [Fact]
    public void An_empty_list_is_still_type_checked()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Set(("negative.yaml", Pack("transfer.rows in lists.restricted"))));
        Assert.Contains("negative.yaml", error.Message);
    }

    [Fact]
    public void A_list_key_with_no_value_is_still_an_error()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Set(("negative.yaml", Pack("transfer.to != \"XX\"").Replace("restricted: []", "restricted:"))));
        Assert.Contains("must be a list of values", error.Message);
    }
}
