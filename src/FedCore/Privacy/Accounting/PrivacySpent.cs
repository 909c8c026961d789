namespace FedCore.Privacy.Accounting;

/// <summary>An (ε, δ) guarantee read off an RDP curve: ε, and the Rényi order that gave it (NaN when ε is infinite at every order).</summary>
public readonly record struct PrivacySpent(double Epsilon, double Order);
