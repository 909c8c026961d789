namespace FedCore.Policy.Language;

internal enum TokenKind
{
    Name,
    Text,
    Number,
    Date,
    Operator,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Comma,
    Dot,
    End,
}

/// <summary>One token of a condition; <see cref="Value"/> holds a literal's parsed value (string, decimal or DateOnly).</summary>
internal sealed record Token(TokenKind Kind, string Text, int Offset, object? Value = null)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    /// <summary>A keyword such as <c>and</c> is a name token with that text.</summary>
    public bool IsKeyword(string word) => Is(TokenKind.Name, word);
}
