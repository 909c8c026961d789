namespace FedCore.Policy.Language;

/// <summary>
/// A condition that cannot be used: a syntax error, an unknown attribute, operator or function, or a type mismatch.
/// <see cref="Offset"/> is the 0-based character position in the condition's text; the pack loader turns it into a
/// file line.
/// </summary>
public sealed class ConditionException(int offset, string problem) : Exception(problem)
{
    public int Offset { get; } = offset;
}
