using FedCore.Rounds;

namespace FedCore.Tests.Rounds;

public class MaskingGraphTests
{
    private static List<string> Members(int n) => Enumerable.Range(0, n).Select(i => $"XX/m{i:D4}").Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Small_rounds_mask_every_pair()
    {
        var members = Members(10);
        Assert.True(MaskingGraph.IsComplete(10));
        foreach (var m in members)
            Assert.Equal(members.Where(o => o != m), MaskingGraph.NeighboursOf(m, members, new byte[32]));
    }

    [Fact]
    public void Large_rounds_use_a_symmetric_graph_of_the_stated_degree_that_depends_on_the_context()
    {
        var members = Members(200);
        Assert.False(MaskingGraph.IsComplete(200));
        int h = MaskingGraph.HalfDegree(200);
        Assert.True(200 * Math.Pow(MaskingGraph.ColludingFraction, h) <= Math.Pow(2, -MaskingGraph.SecurityBits));
        Assert.True(200 * Math.Pow(MaskingGraph.ColludingFraction, h - 1) > Math.Pow(2, -MaskingGraph.SecurityBits)); // the smallest such h
        var context = Enumerable.Repeat((byte)7, 32).ToArray();
        var graph = members.ToDictionary(m => m, m => MaskingGraph.NeighboursOf(m, members, context).ToHashSet());
        foreach (var (m, neighbours) in graph)
        {
            Assert.Equal(2 * h, neighbours.Count);
            Assert.DoesNotContain(m, neighbours);
            Assert.All(neighbours, n => Assert.Contains(m, graph[n])); // masks cancel only if every pair agrees
        }
        Assert.NotEqual(graph[members[0]], MaskingGraph.NeighboursOf(members[0], members, new byte[32]).ToHashSet());
    }

    [Fact]
    public void With_a_third_colluding_the_honest_members_stay_connected_in_sampled_rounds()
    {
        // A Monte Carlo check of the bound in the README: 200 members, 66 colluders fixed before the context is drawn.
        var members = Members(200);
        var colluders = members.Where((_, i) => i % 3 == 0).ToHashSet();
        var random = new Random(1);
        for (int trial = 0; trial < 20; trial++)
        {
            var context = new byte[32];
            random.NextBytes(context);
            var honest = members.Where(m => !colluders.Contains(m)).ToList();
            var reached = new HashSet<string> { honest[0] };
            var frontier = new Queue<string>(reached);
            while (frontier.TryDequeue(out var m))
                foreach (var n in MaskingGraph.NeighboursOf(m, members, context).Where(n => !colluders.Contains(n) && reached.Add(n)))
                    frontier.Enqueue(n);
            Assert.Equal(honest.Count, reached.Count);
        }
    }
}
