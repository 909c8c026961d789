using Federation.Contracts.Jobs;
using Federation.Portal.Cluster;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Portal.Tests;

/// <summary>The portal in its embedded default: sample federation loaded, overview page served over HTTP.</summary>
public sealed class OverviewPageTests(PortalHost portal) : IClassFixture<PortalHost>
{
    [Fact]
    public async Task The_overview_lists_every_sample_participant_with_its_country_and_rows()
    {
        var html = await portal.Http.GetStringAsync("/");
        Assert.Contains("Federation overview", html);
        foreach (var (id, country, rows) in new[] { ("US/cleveland", "US", 303), ("US/long-beach", "US", 130), ("HU/budapest", "HU", 261), ("CH/zurich", "CH", 46) })
        {
            var row = RowOf(html, id);
            Assert.Contains($"<span class=\"country\">{country}</span>", row);
            Assert.Contains($"heart ({rows})", row);
        }
    }

    [Fact]
    public async Task The_blazor_script_is_served()
    {
        var html = await portal.Http.GetStringAsync("/");
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(_framework/blazor\\.web[^\"]*\\.js)\"").Groups[1].Value;
        Assert.NotEmpty(script);
        using var response = await portal.Http.GetAsync("/" + script);
        Assert.True(response.IsSuccessStatusCode, $"{script}: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task After_the_sample_job_runs_the_overview_shows_its_per_round_metrics()
    {
        var overview = portal.App.Services.GetRequiredService<FederationOverview>();
        var started = await overview.StartSampleJobAsync();
        var status = started;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (status.Phase is JobPhase.Pending or JobPhase.Running && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            status = (await overview.LatestJobAsync())!;
        }
        Assert.Equal(JobPhase.Completed, status.Phase);

        var html = await portal.Http.GetStringAsync("/");
        Assert.Contains(started.JobId, html);
        Assert.Contains("id=\"round-metrics\"", html);
        foreach (var round in status.Rounds)
            Assert.Contains(round.MeanLocalTestAccuracy.ToString("F4"), html);
        Assert.Contains("Update protection is &#x27;ckks&#x27;", html); // how updates were protected is shown on the page
    }

    private static string RowOf(string html, string participantId)
    {
        int at = html.IndexOf($"<code>{participantId}</code>", StringComparison.Ordinal);
        Assert.True(at >= 0, $"{participantId} is not on the page");
        int end = html.IndexOf("</tr>", at, StringComparison.Ordinal);
        return html[at..end];
    }
}
