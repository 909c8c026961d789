namespace FedCore.Governance;

/// <summary>
/// Base of every refusal the governance model raises, so that a caller may catch one type. Each derived type
/// names what was refused and why; none is thrown for a programming error (those stay <see cref="ArgumentException"/>).
/// </summary>
public abstract class GovernanceException(string message, Exception? inner = null) : Exception(message, inner);
