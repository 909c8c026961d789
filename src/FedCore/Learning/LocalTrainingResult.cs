namespace FedCore.Learning;

/// <summary>Outcome of <see cref="LocalTrainer.Train"/>.</summary>
/// <param name="Parameters">The trained parameter vector, in the spec's <see cref="ParameterLayout"/> order.</param>
/// <param name="SampleCount">Rows of local training data: the participant's weight in FedAvg.</param>
/// <param name="MeanTrainLoss">Mean per-sample data loss over the last epoch (without the FedProx term), as measured during that epoch's steps.</param>
/// <param name="EpochLosses">The same mean for every epoch, first to last.</param>
/// <param name="Steps">Optimiser steps taken (batches over all epochs).</param>
public sealed record LocalTrainingResult(float[] Parameters, int SampleCount, double MeanTrainLoss, IReadOnlyList<double> EpochLosses, int Steps);

/// <summary>Reported by <see cref="LocalTrainer.Train"/> after each epoch.</summary>
/// <param name="Epoch">Epochs completed, from 1.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="EpochLoss">Mean per-sample data loss over the epoch just completed.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, double EpochLoss);
