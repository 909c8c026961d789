using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// A condition of a rule, parsed and type-checked once at load time against the fact schema and the names in scope;
/// evaluating it cannot meet an unknown attribute or a type error, only a fact the plan did not give.
/// </summary>
public sealed class Condition
{
    private readonly Syntax _syntax;

    private Condition(string text, Syntax syntax)
    {
        Text = text;
        _syntax = syntax;
    }

    public string Text { get; }

    /// <exception cref="ConditionException">A syntax error, an unknown attribute, operator or function, or a type mismatch.</exception>
    public static Condition Compile(string text, ImmutableDictionary<string, FactType> scope)
    {
        var syntax = Parser.Parse(text);
        TypeChecker.CheckCondition(syntax, scope);
        return new Condition(text, syntax);
    }

    /// <summary>true, false, or <see cref="Missing"/>; and the facts read, by path.</summary>
    public (object Result, IReadOnlyDictionary<string, object> Read) Evaluate(IReadOnlyDictionary<string, object> roots)
    {
        var evaluator = new Evaluator(roots);
        var result = evaluator.Evaluate(_syntax);
        return (result, evaluator.Read);
    }
}
