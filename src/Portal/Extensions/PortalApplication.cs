using Federation.Portal.Components;
using Federation.Portal.Cluster;
using Microsoft.AspNetCore.DataProtection;

namespace Federation.Portal.Extensions;

/// <summary>The portal's composition root.</summary>
public static class PortalApplication
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        var options = builder.Configuration.GetSection(PortalFederationOptions.Section).Get<PortalFederationOptions>() ?? new();
        var paths = new PortalPaths(builder.Environment.ContentRootPath);
        var dataDirectory = paths.Resolve(options.DataDirectory);

        // Keys that protect the antiforgery tokens and circuits live with the portal's data, not in ~/.aspnet.
        builder.Services.AddDataProtection()
            .SetApplicationName("federation-portal")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "portal", "keys")));

        builder.AddFederationConnection(options, paths, dataDirectory);
        builder.Services.AddSingleton<FederationOverview>();

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();

        var app = builder.Build();
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
