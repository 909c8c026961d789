using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// Evaluates a type-checked condition over facts in three-valued (Kleene) logic: a missing fact makes the result
/// <see cref="Missing"/> unless the rest decides it anyway (<c>false and ?</c> is false, <c>true or ?</c> is true).
/// Only the facts actually consulted are recorded, with their values, so a decision shows what each rule saw.
/// </summary>
internal sealed class Evaluator(IReadOnlyDictionary<string, object> roots)
{
    private readonly Dictionary<string, object> _variables = new(StringComparer.Ordinal);

    /// <summary>Fact path → value as read (a <see cref="Missing"/> when the plan did not give it).</summary>
    public SortedDictionary<string, object> Read { get; } = new(StringComparer.Ordinal);

    public object Evaluate(Syntax syntax) => syntax switch
    {
        LiteralSyntax literal => literal.Value,
        ListSyntax list => All(list.Items.Select(Evaluate)),
        PathSyntax path => Resolve(path),
        NotSyntax not => Evaluate(not.Operand) is var operand && operand is bool b ? !b : operand,
        LogicalSyntax logical => Logical(logical),
        CompareSyntax compare => Compare(compare),
        CountSyntax count => Evaluate(count.List) is ImmutableArray<object> items ? (decimal)items.Length : Evaluate(count.List),
        QuantifierSyntax quantifier => Quantifier(quantifier),
        _ => throw new InvalidOperationException($"unhandled syntax {syntax.GetType().Name}"),
    };

    /// <summary>The list's items, or the first missing one.</summary>
    private static object All(IEnumerable<object> items)
    {
        var list = items.ToImmutableArray();
        return list.FirstOrDefault(i => i is Missing) ?? list;
    }

    private object Resolve(PathSyntax path)
    {
        object value = _variables.TryGetValue(path.Segments[0], out var bound) ? bound : roots[path.Segments[0]];
        string at = path.Segments[0];
        for (int i = 1; i < path.Segments.Length && value is FactObject obj; i++)
        {
            value = obj.Get(path.Segments[i]);
            at = $"{obj.Path}.{path.Segments[i]}";
        }
        // Pack lists are part of the policy, not facts of the plan, and a bare variable is an item of a list already recorded.
        if (value is not FactObject && path.Segments.Length > 1 && path.Segments[0] != "lists")
            Read[at] = value;
        return value;
    }

    private object Logical(LogicalSyntax logical)
    {
        var left = Evaluate(logical.Left);
        if (logical.Operator == "implies")
            left = left is bool b ? !b : left;
        bool decisive = logical.Operator == "and" ? false : true;
        if (left is bool l && l == decisive)
            return decisive;
        var right = Evaluate(logical.Right);
        if (right is bool r && (r == decisive || left is bool))
            return r;
        return left is Missing ? left : right;
    }

    private object Compare(CompareSyntax compare)
    {
        var left = Evaluate(compare.Left);
        var right = Evaluate(compare.Right);
        if (left is Missing)
            return left;
        if (right is Missing)
            return right;
        return compare.Operator switch
        {
            "==" => Equals(left, right),
            "!=" => !Equals(left, right),
            "<" => Order(left, right) < 0,
            "<=" => Order(left, right) <= 0,
            ">" => Order(left, right) > 0,
            ">=" => Order(left, right) >= 0,
            "in" => ((ImmutableArray<object>)right).Contains(left),
            "not in" => !((ImmutableArray<object>)right).Contains(left),
            "contains" => ((ImmutableArray<object>)left).Contains(right),
            _ => throw new InvalidOperationException($"unhandled operator {compare.Operator}"),
        };
    }

    private static int Order(object left, object right) => left switch
    {
        decimal number => number.CompareTo((decimal)right),
        DateOnly date => date.CompareTo((DateOnly)right),
        _ => throw new InvalidOperationException($"{left.GetType().Name} is not ordered"),
    };

    private object Quantifier(QuantifierSyntax quantifier)
    {
        var list = Evaluate(quantifier.List);
        if (list is not ImmutableArray<object> items)
            return list;
        object? missing = null;
        foreach (var item in items)
        {
            _variables[quantifier.Variable] = item;
            var holds = Evaluate(quantifier.Body);
            if (holds is bool b && b != quantifier.All)
            {
                _variables.Remove(quantifier.Variable);
                return b;
            }
            missing ??= holds as Missing;
        }
        _variables.Remove(quantifier.Variable);
        return missing ?? quantifier.All;
    }
}
