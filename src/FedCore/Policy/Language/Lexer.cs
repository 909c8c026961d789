using System.Globalization;
using System.Text;

namespace FedCore.Policy.Language;

/// <summary>
/// Splits a condition into tokens. Everything it does not know is an error naming the position, so that
/// <c>a &amp;&amp; b</c> or <c>a = b</c> is refused at load time instead of meaning something else.
/// </summary>
internal static class Lexer
{
    /// <summary>Conditions are short; a limit keeps a malformed file from costing more than a moment.</summary>
    public const int MaxLength = 4096;

    private static readonly string[] Operators = ["==", "!=", "<=", ">=", "<", ">"];

    public static List<Token> Tokenize(string text)
    {
        if (text.Length > MaxLength)
            throw new ConditionException(0, $"the condition is {text.Length} characters long; at most {MaxLength} are allowed");
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            int start = i;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                    i++;
                tokens.Add(new Token(TokenKind.Name, text[start..i], start));
            }
            else if (c == '"')
                tokens.Add(ReadString(text, ref i));
            else if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
                tokens.Add(ReadNumberOrDate(text, ref i));
            else if (Operators.FirstOrDefault(op => string.CompareOrdinal(text, i, op, 0, op.Length) == 0) is { } op)
            {
                i += op.Length;
                tokens.Add(new Token(TokenKind.Operator, op, start));
            }
            else
            {
                var kind = c switch
                {
                    '(' => TokenKind.OpenParen,
                    ')' => TokenKind.CloseParen,
                    '[' => TokenKind.OpenBracket,
                    ']' => TokenKind.CloseBracket,
                    ',' => TokenKind.Comma,
                    '.' => TokenKind.Dot,
                    _ => throw Unknown(text, i),
                };
                i++;
                tokens.Add(new Token(kind, c.ToString(), start));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static ConditionException Unknown(string text, int i)
    {
        int end = i;
        while (end < text.Length && !char.IsWhiteSpace(text[end]) && !char.IsAsciiLetterOrDigit(text[end]) && text[end] is not ('"' or '(' or ')' or '[' or ']'))
            end++;
        string symbol = text[i..Math.Max(end, i + 1)];
        string hint = symbol switch
        {
            "=" => " (did you mean ==?)",
            "&&" or "&" => " (write and)",
            "||" or "|" => " (write or)",
            "!" => " (write not)",
            "'" => " (strings are written in double quotes)",
            _ => " (known: == != < <= > >= in, not in, contains, and, or, not, implies)",
        };
        return new ConditionException(i, $"unknown operator '{symbol}'{hint}");
    }

    private static Token ReadString(string text, ref int i)
    {
        int start = i++;
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
                throw new ConditionException(start, "a string is not closed (a \" is missing)");
            char c = text[i++];
            if (c == '"')
                break;
            if (c == '\\')
            {
                if (i >= text.Length || text[i] is not ('"' or '\\'))
                    throw new ConditionException(i - 1, "a string may escape only \\\" and \\\\");
                c = text[i++];
            }
            value.Append(c);
        }
        return new Token(TokenKind.Text, text[start..i], start, value.ToString());
    }

    /// <summary>A date is written yyyy-mm-dd (2026-01-01); anything else starting with a digit is a decimal number.</summary>
    private static Token ReadNumberOrDate(string text, ref int i)
    {
        int start = i;
        if (text[i] == '-')
            i++;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or '-' or '_'))
            i++;
        string word = text[start..i];
        if (word.Length == 10 && word[4] == '-' && word[7] == '-')
        {
            if (!Dates.TryParse(word, out var date))
                throw new ConditionException(start, $"'{word}' is not a date (yyyy-mm-dd, a real day)");
            return new Token(TokenKind.Date, word, start, date);
        }
        if (word.Length > 40 || !decimal.TryParse(word, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            || word.EndsWith('.') || word.StartsWith('.'))
            throw new ConditionException(start, $"'{(word.Length > 40 ? word[..40] + "…" : word)}' is not a number (digits, an optional sign and decimal point) nor a date (yyyy-mm-dd)");
        return new Token(TokenKind.Number, word, start, number);
    }
}
