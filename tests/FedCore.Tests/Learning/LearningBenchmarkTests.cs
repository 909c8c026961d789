using FedCore.Learning;

namespace FedCore.Tests.Learning;

public class LearningBenchmarkTests
{
    [Fact]
    public void Benchmark_reports_one_figure_per_model_with_its_parameter_count()
    {
        // A tiny run: checks the figures are well-formed, not how fast anything is.
        var figures = LearningBenchmark.Run(rows: 40, epochs: 1);
        Assert.Equal(LearningBenchmark.DefaultModels.Select(m => m.ToJson()), figures.Select(f => f.Spec));
        Assert.All(figures, f =>
        {
            Assert.Equal(ParameterLayout.For(ModelSpec.Parse(f.Spec, "figure")).TotalLength, f.ParameterCount);
            Assert.True(f.Seconds > 0 && f.SamplesPerSecond > 0);
            Assert.Contains("samples/s", f.ToString());
        });
    }
}
