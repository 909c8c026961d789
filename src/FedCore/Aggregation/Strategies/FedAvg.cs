namespace FedCore.Aggregation.Strategies;

/// <summary>
/// FedAvg (McMahan et al. 2017): the next global model is the sample-weighted mean of the local models, i.e.
/// global + η · mean update with η = 1. Other η give the "server learning rate" variant.
/// </summary>
public sealed class FedAvg(double serverLearningRate = 1.0) : ServerStrategy
{
    public override string Name => "fedavg";

    public override ServerStepResult Step(ReadOnlySpan<float> global, ReadOnlySpan<float> meanUpdate, ServerOptimizerState? state)
    {
        CheckLengths(global, meanUpdate);
        var next = new float[global.Length];
        float eta = (float)serverLearningRate;
        for (int i = 0; i < next.Length; i++)
            next[i] = global[i] + eta * meanUpdate[i];
        return new ServerStepResult(next, null);
    }
}
