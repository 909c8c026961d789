using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>A node of a parsed condition; <see cref="Offset"/> is where it starts in the condition's text, for errors.</summary>
internal abstract record Syntax(int Offset);

/// <summary>A string, number, date or boolean written in the condition.</summary>
internal sealed record LiteralSyntax(int Offset, object Value) : Syntax(Offset);

/// <summary><c>[a, b, c]</c>: a non-empty list of values of one type.</summary>
internal sealed record ListSyntax(int Offset, ImmutableArray<Syntax> Items) : Syntax(Offset);

/// <summary>An attribute such as <c>transfer.recipient.sector</c>, a pack list <c>lists.eea</c>, or a bound variable <c>d.rows</c>.</summary>
internal sealed record PathSyntax(int Offset, ImmutableArray<string> Segments) : Syntax(Offset)
{
    public string Text => string.Join('.', Segments);
}

internal sealed record NotSyntax(int Offset, Syntax Operand) : Syntax(Offset);

/// <summary><c>and</c>, <c>or</c>, <c>implies</c>: three-valued (a missing fact may be decided around).</summary>
internal sealed record LogicalSyntax(int Offset, string Operator, Syntax Left, Syntax Right) : Syntax(Offset);

/// <summary><c>== != &lt; &lt;= &gt; &gt;= in</c>, <c>not in</c>, <c>contains</c>.</summary>
internal sealed record CompareSyntax(int Offset, string Operator, Syntax Left, Syntax Right) : Syntax(Offset);

/// <summary><c>count(list)</c>.</summary>
internal sealed record CountSyntax(int Offset, Syntax List) : Syntax(Offset);

/// <summary><c>all(x in list, condition)</c> or <c>any(x in list, condition)</c>.</summary>
internal sealed record QuantifierSyntax(int Offset, bool All, string Variable, Syntax List, Syntax Body) : Syntax(Offset);
