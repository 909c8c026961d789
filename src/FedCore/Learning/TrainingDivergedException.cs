namespace FedCore.Learning;

/// <summary>
/// Local training produced a non-finite loss or parameters (typically a learning rate that is too high).
/// Such an update must not be sent: one NaN would poison the aggregate of every participant.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
