namespace FedCore.Learning;

/// <summary>How well a parameter vector fits a dataset.</summary>
/// <param name="Loss">Mean per-sample loss, the same loss training minimises (MSE for regression; BCE, cross-entropy or hinge for classifiers).</param>
/// <param name="Accuracy">Fraction of rows whose predicted class equals the label; null for regression.</param>
/// <param name="Auc">ROC AUC of the score for two-class models; null for regression, more than two classes, or data lacking one of the classes.</param>
/// <param name="RSquared">Coefficient of determination 1 − SSE/SST for regression; null for classifiers or constant targets.</param>
/// <param name="SampleCount">Rows evaluated.</param>
public sealed record ModelMetrics(double Loss, double? Accuracy, double? Auc, double? RSquared, int SampleCount);
