namespace Federation.Portal.Cluster;

/// <summary>Configuration section "Federation".</summary>
public sealed class PortalFederationOptions
{
    public const string Section = "Federation";

    /// <summary>"Embedded": the portal co-hosts one silo per country on loopback. "Client": it connects to gateways.</summary>
    public string Mode { get; set; } = "Embedded";

    /// <summary>SQLite files of the embedded silos and the portal's keys. Relative paths: from the repository root.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>A federation manifest whose participants the embedded default enrols at start (empty: none).</summary>
    public string? SampleFederation { get; set; } = "samples/fed-heart-disease/federation.json";

    /// <summary>The job the overview page can start with one click.</summary>
    public string? SampleJob { get; set; } = "samples/fed-heart-disease/job.json";

    /// <summary>Countries of the embedded silos; empty: the countries of the sample federation.</summary>
    public List<string> Countries { get; set; } = [];

    public int BaseSiloPort { get; set; } = 11111;

    public int BaseGatewayPort { get; set; } = 30000;

    /// <summary>Client mode: gateway ports on loopback (production clustering comes with its own issue).</summary>
    public List<int> GatewayPorts { get; set; } = [30000];
}
