using FedCore.Aggregation.Strategies;

namespace FedCore.Tests.Aggregation;

public class ServerStrategyTests
{
    [Fact]
    public void FedAvg_with_server_rate_one_gives_the_weighted_mean_of_the_local_models()
    {
        float[] global = [1f, -2f, 0.5f];
        float[][] locals = [[2f, -1f, 0.5f], [0f, -4f, 1.5f], [1f, -2f, -0.5f]];
        double[] rows = [10, 30, 60];
        var meanUpdate = new float[3];
        for (int i = 0; i < 3; i++)
            meanUpdate[i] = (float)(Enumerable.Range(0, 3).Sum(k => rows[k] * (locals[k][i] - global[i])) / rows.Sum());

        var next = new FedAvg().Step(global, meanUpdate, null).Global;

        for (int i = 0; i < 3; i++)
        {
            double weightedMean = Enumerable.Range(0, 3).Sum(k => rows[k] * locals[k][i]) / rows.Sum();
            Assert.Equal(weightedMean, next[i], 5);
        }
    }

    [Theory]
    [InlineData("fedadam")]
    [InlineData("fedyogi")]
    [InlineData("fedadagrad")]
    public void Adaptive_optimisers_follow_Reddi_et_al_over_two_rounds(string name)
    {
        var options = new StrategyOptions(name, ServerLearningRate: 0.1, Beta1: 0.9, Beta2: 0.99, Tau: 1e-3);
        var strategy = ServerStrategy.Create(options);
        float[] x = [0.5f, -0.25f];
        float[][] deltas = [[0.2f, -0.4f], [-0.1f, 0.3f]];

        // Hand-rolled reference in double precision.
        double[] rx = [0.5, -0.25], m = [0, 0], v = [1e-6, 1e-6];
        ServerOptimizerState? state = null;
        foreach (var delta in deltas)
        {
            for (int i = 0; i < 2; i++)
            {
                double d = delta[i];
                m[i] = 0.9 * m[i] + 0.1 * d;
                v[i] = name switch
                {
                    "fedadam" => 0.99 * v[i] + 0.01 * d * d,
                    "fedyogi" => v[i] - 0.01 * d * d * Math.Sign(v[i] - d * d),
                    _ => v[i] + d * d,
                };
                rx[i] += 0.1 * m[i] / (Math.Sqrt(v[i]) + 1e-3);
            }
            var step = strategy.Step(x, delta, state);
            x = step.Global;
            state = step.State;
            Assert.NotNull(state);
        }

        Assert.Equal(rx[0], x[0], 4);
        Assert.Equal(rx[1], x[1], 4);
        Assert.Equal(name, strategy.Name);
    }

    [Fact]
    public void FedAdam_moves_each_coordinate_by_about_the_server_rate_in_the_first_round()
    {
        // With v0 = τ² and one round, m/√v = (1−β1)Δ / √(β2τ² + (1−β2)Δ²) ≈ sign(Δ) once |Δ| ≫ τ: the step is η, whatever Δ.
        var strategy = ServerStrategy.Create(new StrategyOptions("fedadam", 0.1));
        var small = strategy.Step([0f], [0.5f], null).Global[0];
        var large = strategy.Step([0f], [10f], null).Global[0];
        Assert.InRange(small, 0.09, 0.1);
        Assert.InRange(large, 0.09, 0.1);
    }

    [Fact]
    public void Unknown_strategies_and_bad_settings_are_refused_by_name()
    {
        var unknown = Assert.Throws<ArgumentException>(() => ServerStrategy.Create(new StrategyOptions("fedmagic")));
        Assert.Contains("fedmagic", unknown.Message);
        Assert.Contains("fedyogi", unknown.Message);
        Assert.Contains("beta1", Assert.Throws<ArgumentException>(() => new StrategyOptions("fedadam", Beta1: 1.0).Validate()).Message);
        Assert.Contains("tau", Assert.Throws<ArgumentException>(() => new StrategyOptions("fedadam", Tau: 0).Validate()).Message);
        Assert.Contains("learning rate", Assert.Throws<ArgumentException>(() => new StrategyOptions("fedavg", ServerLearningRate: -1).Validate()).Message);
    }

    [Fact]
    public void Length_mismatches_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FedAvg().Step([1f, 2f], [1f], null));
        var adam = ServerStrategy.Create(new StrategyOptions("fedadam"));
        var state = adam.Step([1f, 2f], [0.1f, 0.1f], null).State;
        Assert.Throws<ArgumentException>(() => adam.Step([1f, 2f, 3f], [0.1f, 0.1f, 0.1f], state));
    }
}
