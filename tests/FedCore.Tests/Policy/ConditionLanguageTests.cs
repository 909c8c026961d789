using System.Collections.Immutable;
using FedCore.Policy;
using FedCore.Policy.Language;
using FedCore.Policy.Plans;

namespace FedCore.Tests.Policy;

/// <summary>The condition language alone: precedence, lists, dates, three-valued logic, and what load time refuses.</summary>
public sealed class ConditionLanguageTests
{
    private static readonly ObjectType Lists = new("lists", [new FactField("eea", FactType.ListOf(FactType.Text), false, "")]);

    private static ImmutableDictionary<string, object> Facts(PolicyPlan? plan = null) =>
        PlanFacts.ForPlan(plan ?? PolicyFixture.Plan()).Add("lists", new FactObject("lists", ImmutableDictionary<string, object>.Empty.Add("eea", ImmutableArray.Create<object>("DE", "HU"))));

    private static object Eval(string condition, PolicyPlan? plan = null) =>
        Condition.Compile(condition, FactSchema.PlanScope(Lists)).Evaluate(Facts(plan)).Result;

    private static ConditionException Refused(string condition) =>
        Assert.Throws<ConditionException>(() => Condition.Compile(condition, FactSchema.PlanScope(Lists)));

    [Theory]
    [InlineData("not false and false", false)] // (not false) and false
    [InlineData("not (false and false)", true)]
    [InlineData("true or false and false", true)] // true or (false and false)
    [InlineData("(true or false) and false", false)]
    [InlineData("false and true or true", true)] // (false and true) or true
    [InlineData("not true or true", true)] // (not true) or true
    [InlineData("not 1 == 2", true)] // not binds looser than a comparison
    [InlineData("false implies false", true)]
    [InlineData("true implies false", false)]
    [InlineData("true implies false implies false", true)] // right associative: true implies (false implies false)
    [InlineData("false or true implies false", false)] // implies is loosest
    public void Operators_bind_as_documented(string condition, bool expected) => Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("\"HU\" in [\"HU\", \"DE\"]", true)]
    [InlineData("\"FR\" in lists.eea", false)]
    [InlineData("\"FR\" not in lists.eea", true)]
    [InlineData("lists.eea contains \"DE\"", true)]
    [InlineData("plan.countries contains \"US\"", true)]
    [InlineData("1.0 in [1, 2]", true)] // numbers compare by value
    [InlineData("count(plan.participants) == 3", true)]
    [InlineData("count(lists.eea) == 2", true)]
    [InlineData("any(p in plan.participants, p.country == \"US\")", true)]
    [InlineData("all(p in plan.participants, p.country in lists.eea)", false)]
    [InlineData("any(c in plan.countries, c in lists.eea)", true)]
    [InlineData("plan.purpose == \"cardiology research\"", true)]
    [InlineData("plan.purpose != \"Cardiology research\"", true)] // strings compare exactly
    [InlineData("-1 < 0", true)]
    public void Lists_and_values_compare_as_documented(string condition, bool expected) => Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("plan.at == 2026-03-01", true)]
    [InlineData("plan.at >= 2026-03-01", true)]
    [InlineData("plan.at > 2026-03-01", false)]
    [InlineData("plan.at < 2026-03-02", true)]
    [InlineData("plan.at <= 2026-02-28", false)]
    [InlineData("date(\"2026-03-01\") == plan.at", true)]
    [InlineData("2024-02-29 < 2024-03-01", true)]
    public void Dates_compare_by_day(string condition, bool expected) => Assert.Equal(expected, Eval(condition));

    [Theory]
    [InlineData("plan.participantCount == \"3\"", "cannot compare a number with a string")]
    [InlineData("plan.at < 3", "'<' compares two numbers or two dates")]
    [InlineData("plan.purpose < \"z\"", "'<' compares two numbers or two dates")]
    [InlineData("\"HU\" in \"HU\"", "'in' needs a list on its right")]
    [InlineData("3 in lists.eea", "cannot look for a number 'in' a list of string")]
    [InlineData("plan.countries contains 3", "a list of string cannot contain a number")]
    [InlineData("plan.participants == 3", "cannot compare a list of participant")]
    [InlineData("plan.foo", "unknown attribute 'plan.foo' (plan has at, jobId")]
    [InlineData("plann.jobId == \"x\"", "unknown attribute 'plann.jobId' (a condition starts from agreement, dp, lists, plan)")]
    [InlineData("transfer.from == \"HU\"", "unknown attribute 'transfer.from'")] // a plan-level rule sees no transfer
    [InlineData("plan.jobId.x == 1", "plan.jobId is a string, which has no attributes")]
    [InlineData("lists.adequate contains \"CH\"", "unknown attribute 'lists.adequate'")]
    [InlineData("size(plan.countries) > 1", "unknown function 'size' (known: all, any, count, date)")]
    [InlineData("true && false", "unknown operator '&&' (write and)")]
    [InlineData("plan.round = 1", "unknown operator '=' (did you mean ==?)")]
    [InlineData("plan.round + 1 > 2", "unknown operator '+'")]
    [InlineData("plan.purpose", "the condition is a string, not a boolean")]
    [InlineData("not plan.round", "'not' takes true or false, not a number")]
    [InlineData("1 < 2 < 3", "comparisons do not chain")]
    [InlineData("[] == []", "a list must not be empty")]
    [InlineData("[1, \"a\"] contains 1", "a list holds values of one type")]
    [InlineData("count(plan.jobId) > 1", "count(…) takes a list, not a string")]
    [InlineData("all(plan in plan.participants, true)", "the variable name 'plan' is already taken")]
    [InlineData("any(p plan.participants, true)", "'in' is missing after 'p'")]
    [InlineData("date(\"2026-02-30\") < plan.at", "is not a date")]
    [InlineData("plan.at > 2026-13-01", "'2026-13-01' is not a date")]
    [InlineData("plan.purpose == 'x'", "strings are written in double quotes")]
    [InlineData("plan.purpose == \"x", "a string is not closed")]
    [InlineData("(true", "the condition ends where ')' was expected")]
    [InlineData("true false", "'false' where the end of the condition")]
    [InlineData("", "the condition is empty")]
    public void Load_time_refuses_what_it_does_not_understand(string condition, string message) =>
        Assert.Contains(message, Refused(condition).Message);

    [Fact]
    public void The_error_offset_points_at_the_culprit()
    {
        var error = Refused("plan.round > 1 and plan.nope");
        Assert.Equal("plan.round > 1 and ".Length, error.Offset);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_recursed()
    {
        Assert.Contains("nests more than", Refused(new string('(', 200) + "true" + new string(')', 200)).Message);
        Assert.Contains("at most 4096", Refused(string.Join(" and ", Enumerable.Repeat("true", 2000))).Message);
    }

    [Fact]
    public void A_missing_fact_is_undetermined_unless_the_rest_decides()
    {
        var noRound = PolicyFixture.Plan() with { Round = null };
        Assert.Equal(new Missing("plan.round"), Eval("plan.round > 1", noRound));
        Assert.Equal(new Missing("plan.round"), Eval("not (plan.round > 1)", noRound));
        Assert.Equal(new Missing("plan.round"), Eval("true and plan.round > 1", noRound));
        Assert.Equal(false, Eval("false and plan.round > 1", noRound));
        Assert.Equal(false, Eval("plan.round > 1 and false", noRound));
        Assert.Equal(true, Eval("plan.round > 1 or true", noRound));
        Assert.Equal(new Missing("plan.round"), Eval("plan.round > 1 or false", noRound));
        Assert.Equal(true, Eval("false implies plan.round > 1", noRound));
        Assert.Equal(new Missing("plan.round"), Eval("plan.round in [1, 2]", noRound));

        // A dataset without a cap: all() over the datasets is undetermined unless another item already decides it.
        var plan = PolicyFixture.Plan();
        var uncapped = plan with { Participants = [plan.Participants[0] with { Datasets = [plan.Participants[0].Datasets[0] with { EpsilonCap = null }] }, .. plan.Participants[1..]] };
        Assert.Equal(new Missing("plan.datasets[0].epsilonRemaining"), Eval("all(d in plan.datasets, d.epsilonRemaining >= 1)", uncapped));
        Assert.Equal(false, Eval("all(d in plan.datasets, d.epsilonRemaining >= 9)", uncapped)); // the second dataset has 8 left
    }

    [Fact]
    public void The_facts_read_are_recorded_with_their_values()
    {
        var condition = Condition.Compile("plan.participantCount >= 3 and any(d in plan.datasets, d.rows > 300)", FactSchema.PlanScope(Lists));
        var (result, read) = condition.Evaluate(Facts());
        Assert.Equal(true, result);
        Assert.Equal(3m, read["plan.participantCount"]);
        Assert.Equal(294m, read["plan.datasets[0].rows"]);
        Assert.Equal(303m, read["plan.datasets[2].rows"]);
        Assert.False(read.ContainsKey("plan.datasets[3].rows"));
    }
}
