using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// Gives every node of a condition its type against the fact schema, or refuses it naming what and where: an unknown
/// attribute, a comparison of a number with a string, <c>in</c> over something that is not a list of the same type.
/// </summary>
internal static class TypeChecker
{
    public static void CheckCondition(Syntax syntax, ImmutableDictionary<string, FactType> scope)
    {
        var type = TypeOf(syntax, scope);
        if (type != FactType.Boolean)
            throw new ConditionException(syntax.Offset, $"the condition is a {type.Describe()}, not a boolean (true or false)");
    }

    private static FactType TypeOf(Syntax syntax, ImmutableDictionary<string, FactType> scope) => syntax switch
    {
        LiteralSyntax literal => literal.Value switch
        {
            bool => FactType.Boolean,
            decimal => FactType.Number,
            DateOnly => FactType.Date,
            _ => FactType.Text,
        },
        ListSyntax list => ListOf(list, scope),
        PathSyntax path => Resolve(path, scope),
        NotSyntax not => Boolean(not.Operand, scope, "not"),
        LogicalSyntax logical => Logical(logical, scope),
        CompareSyntax compare => Compare(compare, scope),
        CountSyntax count => TypeOf(count.List, scope) is ListType
            ? FactType.Number
            : throw new ConditionException(count.List.Offset, $"count(…) takes a list, not a {TypeOf(count.List, scope).Describe()}"),
        QuantifierSyntax quantifier => Quantifier(quantifier, scope),
        _ => throw new InvalidOperationException($"unhandled syntax {syntax.GetType().Name}"),
    };

    private static FactType ListOf(ListSyntax list, ImmutableDictionary<string, FactType> scope)
    {
        var element = TypeOf(list.Items[0], scope);
        if (!element.IsScalar)
            throw new ConditionException(list.Items[0].Offset, $"a list holds strings, numbers, dates or booleans, not a {element.Describe()}");
        foreach (var item in list.Items.Skip(1))
            if (TypeOf(item, scope) is var other && other != element)
                throw new ConditionException(item.Offset, $"a list holds values of one type: this is a {other.Describe()}, the first a {element.Describe()}");
        return FactType.ListOf(element);
    }

    private static FactType Resolve(PathSyntax path, ImmutableDictionary<string, FactType> scope)
    {
        if (!scope.TryGetValue(path.Segments[0], out var type))
            throw new ConditionException(path.Offset, $"unknown attribute '{path.Text}' (a condition starts from {string.Join(", ", scope.Keys.Order(StringComparer.Ordinal))})");
        for (int i = 1; i < path.Segments.Length; i++)
        {
            string prefix = string.Join('.', path.Segments.Take(i));
            if (type is not ObjectType obj)
                throw new ConditionException(path.Offset, $"unknown attribute '{path.Text}': {prefix} is a {type.Describe()}, which has no attributes");
            var field = obj.Field(path.Segments[i])
                ?? throw new ConditionException(path.Offset, $"unknown attribute '{path.Text}' ({prefix} has {string.Join(", ", obj.Fields.Select(f => f.Name))})");
            type = field.Type;
        }
        return type;
    }

    private static FactType Boolean(Syntax operand, ImmutableDictionary<string, FactType> scope, string op) =>
        TypeOf(operand, scope) is var type && type == FactType.Boolean
            ? type
            : throw new ConditionException(operand.Offset, $"'{op}' takes true or false, not a {type.Describe()}");

    private static FactType Logical(LogicalSyntax logical, ImmutableDictionary<string, FactType> scope)
    {
        Boolean(logical.Left, scope, logical.Operator);
        return Boolean(logical.Right, scope, logical.Operator);
    }

    private static FactType Compare(CompareSyntax compare, ImmutableDictionary<string, FactType> scope)
    {
        var left = TypeOf(compare.Left, scope);
        var right = TypeOf(compare.Right, scope);
        string op = compare.Operator;
        string problem = op switch
        {
            "in" or "not in" when right is not ListType => $"'{op}' needs a list on its right, not a {right.Describe()}",
            "in" or "not in" when ((ListType)right).Element != left || !left.IsScalar => $"cannot look for a {left.Describe()} '{op}' a {right.Describe()}",
            "contains" when left is not ListType => $"'contains' needs a list on its left, not a {left.Describe()}",
            "contains" when ((ListType)left).Element != right || !right.IsScalar => $"a {left.Describe()} cannot contain a {right.Describe()}",
            "==" or "!=" when left != right || !left.IsScalar => $"cannot compare a {left.Describe()} with a {right.Describe()} by '{op}'",
            "<" or "<=" or ">" or ">=" when left != right || !left.IsOrdered => $"'{op}' compares two numbers or two dates, not a {left.Describe()} with a {right.Describe()}",
            _ => "",
        };
        return problem == "" ? FactType.Boolean : throw new ConditionException(compare.Offset, problem);
    }

    private static FactType Quantifier(QuantifierSyntax quantifier, ImmutableDictionary<string, FactType> scope)
    {
        string name = quantifier.All ? "all" : "any";
        if (TypeOf(quantifier.List, scope) is not ListType list)
            throw new ConditionException(quantifier.List.Offset, $"{name}(x in …) takes a list, not a {TypeOf(quantifier.List, scope).Describe()}");
        if (scope.ContainsKey(quantifier.Variable))
            throw new ConditionException(quantifier.Offset, $"the variable name '{quantifier.Variable}' is already taken here; choose another");
        return Boolean(quantifier.Body, scope.Add(quantifier.Variable, list.Element), name);
    }
}
