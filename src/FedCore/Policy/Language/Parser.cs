using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// Recursive descent over the grammar in policies/README.md. Precedence, loosest first: <c>implies</c> (right
/// associative), <c>or</c>, <c>and</c>, <c>not</c>, one comparison (comparisons do not chain), then values.
/// </summary>
internal sealed class Parser
{
    /// <summary>Nesting deeper than this is refused rather than recursed into.</summary>
    public const int MaxDepth = 32;

    public static readonly string[] Functions = ["all", "any", "count", "date"];

    private static readonly string[] Keywords = ["and", "or", "not", "implies", "in", "contains", "true", "false"];

    private readonly List<Token> _tokens;
    private int _next;
    private int _depth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static Syntax Parse(string text)
    {
        var tokens = Lexer.Tokenize(text);
        if (tokens.Count == 1)
            throw new ConditionException(0, "the condition is empty");
        var parser = new Parser(tokens);
        var syntax = parser.Implies();
        if (parser.Peek.Kind != TokenKind.End)
            throw parser.Unexpected("the end of the condition, or and/or/implies");
        return syntax;
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private Syntax Implies()
    {
        var left = Or();
        if (!Peek.IsKeyword("implies"))
            return left;
        var op = Take();
        return new LogicalSyntax(op.Offset, "implies", left, Nested(Implies));
    }

    private Syntax Or()
    {
        var left = And();
        while (Peek.IsKeyword("or"))
            left = new LogicalSyntax(Take().Offset, "or", left, And());
        return left;
    }

    private Syntax And()
    {
        var left = Not();
        while (Peek.IsKeyword("and"))
            left = new LogicalSyntax(Take().Offset, "and", left, Not());
        return left;
    }

    private Syntax Not()
    {
        if (!Peek.IsKeyword("not"))
            return Comparison();
        var not = Take();
        return new NotSyntax(not.Offset, Nested(Not));
    }

    private Syntax Comparison()
    {
        var left = Value();
        var op = ComparisonOperator();
        if (op is null)
            return left;
        var comparison = new CompareSyntax(op.Value.Offset, op.Value.Name, left, Value());
        if (ComparisonOperator() is { } chained)
            throw new ConditionException(chained.Offset, $"comparisons do not chain: put '{chained.Name}' in its own comparison joined with and");
        return comparison;
    }

    /// <summary>Takes a comparison operator if one comes next: a symbol, <c>in</c>, <c>contains</c>, or <c>not in</c>.</summary>
    private (string Name, int Offset)? ComparisonOperator()
    {
        var token = Peek;
        if (token.Kind == TokenKind.Operator || token.IsKeyword("in") || token.IsKeyword("contains"))
        {
            Take();
            return (token.Text, token.Offset);
        }
        if (token.IsKeyword("not") && _tokens[_next + 1].IsKeyword("in"))
        {
            Take();
            Take();
            return ("not in", token.Offset);
        }
        return null;
    }

    private Syntax Value()
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.Text or TokenKind.Number or TokenKind.Date:
                return new LiteralSyntax(token.Offset, token.Value!);
            case TokenKind.OpenParen:
                var inner = Nested(Implies);
                Expect(TokenKind.CloseParen, "')'");
                return inner;
            case TokenKind.OpenBracket:
                return List(token);
            case TokenKind.Name when token.Text is "true" or "false":
                return new LiteralSyntax(token.Offset, token.Text == "true");
            case TokenKind.Name when Peek.Kind == TokenKind.OpenParen:
                return Call(token);
            case TokenKind.Name when !Keywords.Contains(token.Text):
                return Path(token);
            default:
                _next--;
                throw Unexpected("a value: an attribute, a literal, a list, a function or '('");
        }
    }

    private Syntax List(Token open)
    {
        var items = ImmutableArray.CreateBuilder<Syntax>();
        if (Peek.Kind == TokenKind.CloseBracket)
            throw new ConditionException(open.Offset, "a list must not be empty");
        do
            items.Add(Nested(Value));
        while (TakeIf(TokenKind.Comma));
        Expect(TokenKind.CloseBracket, "',' or ']'");
        return new ListSyntax(open.Offset, items.ToImmutable());
    }

    private Syntax Call(Token name)
    {
        if (!Functions.Contains(name.Text))
            throw new ConditionException(name.Offset, $"unknown function '{name.Text}' (known: {string.Join(", ", Functions)})");
        Take();
        Syntax call;
        switch (name.Text)
        {
            case "count":
                call = new CountSyntax(name.Offset, Nested(Implies));
                break;
            case "date":
                var text = Take();
                if (text.Kind != TokenKind.Text)
                    throw new ConditionException(text.Offset, "date(…) takes a string such as \"2026-01-01\"");
                if (!Dates.TryParse((string)text.Value!, out var date))
                    throw new ConditionException(text.Offset, $"{text.Text} is not a date (yyyy-mm-dd, a real day)");
                call = new LiteralSyntax(name.Offset, date);
                break;
            default:
                var variable = Take();
                if (variable.Kind != TokenKind.Name || Keywords.Contains(variable.Text) || Functions.Contains(variable.Text))
                    throw new ConditionException(variable.Offset, $"{name.Text}(…) starts with a variable name: {name.Text}(x in list, condition on x)");
                if (!Take().IsKeyword("in"))
                    throw new ConditionException(variable.Offset, $"{name.Text}(…) reads {name.Text}(x in list, condition on x): 'in' is missing after '{variable.Text}'");
                var list = Nested(Value);
                Expect(TokenKind.Comma, "','");
                call = new QuantifierSyntax(name.Offset, name.Text == "all", variable.Text, list, Nested(Implies));
                break;
        }
        Expect(TokenKind.CloseParen, "')'");
        return call;
    }

    private Syntax Path(Token first)
    {
        var segments = ImmutableArray.CreateBuilder<string>();
        segments.Add(first.Text);
        while (TakeIf(TokenKind.Dot))
        {
            var segment = Take();
            if (segment.Kind != TokenKind.Name)
                throw new ConditionException(segment.Offset, $"an attribute name must follow '{string.Join('.', segments)}.'");
            segments.Add(segment.Text);
        }
        return new PathSyntax(first.Offset, segments.ToImmutable());
    }

    private Syntax Nested(Func<Syntax> parse)
    {
        if (++_depth > MaxDepth)
            throw new ConditionException(Peek.Offset, $"the condition nests more than {MaxDepth} levels deep");
        var syntax = parse();
        _depth--;
        return syntax;
    }

    private bool TakeIf(TokenKind kind)
    {
        if (Peek.Kind != kind)
            return false;
        _next++;
        return true;
    }

    private void Expect(TokenKind kind, string what)
    {
        if (!TakeIf(kind))
            throw Unexpected(what);
    }

    private ConditionException Unexpected(string expected) =>
        new(Peek.Offset, Peek.Kind == TokenKind.End ? $"the condition ends where {expected} was expected" : $"'{Peek.Text}' where {expected} was expected");
}
