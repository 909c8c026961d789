using System.Net;
using System.Net.Sockets;
using Federation.Portal.Extensions;
using Microsoft.AspNetCore.Builder;

namespace Federation.Portal.Tests;

/// <summary>
/// The real portal on Kestrel, on loopback ports of its own, in the embedded default: it co-hosts the silos of
/// the sample federation's three countries and keeps its SQLite files in a fresh temporary folder.
/// </summary>
public sealed class PortalHost : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"federation-portal-{Guid.NewGuid():N}");

    public WebApplication App { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        int web = FreePorts(1);
        int silos = FreePorts(3);
        int gateways = FreePorts(3);
        App = PortalApplication.Build(
        [
            $"--urls=http://127.0.0.1:{web}",
            "--environment=Development",
            $"--Federation:DataDirectory={_data}",
            $"--Federation:BaseSiloPort={silos}",
            $"--Federation:BaseGatewayPort={gateways}",
            $"--contentRoot={Path.Combine(RepositoryRoot(), "src", "Portal")}",
            // The static web assets manifest is found by the application's name, not the test runner's.
            "--applicationName=Federation.Portal",
        ]);
        await App.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{web}") };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Federation.sln")))
                return dir.FullName;
        throw new InvalidOperationException("No Federation.sln above the test binaries.");
    }

    /// <summary>The first of <paramref name="count"/> consecutive free loopback ports.</summary>
    private static int FreePorts(int count)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int start = Random.Shared.Next(20000, 60000);
            var listeners = new List<TcpListener>();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, start + i);
                    listener.Start();
                    listeners.Add(listener);
                }
                return start;
            }
            catch (SocketException)
            {
            }
            finally
            {
                foreach (var l in listeners)
                    l.Stop();
            }
        }
        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }
}
