using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Federation.Silo.Hosting;

/// <summary>The country this silo runs in, as declared in its Orleans silo metadata.</summary>
public sealed record SiloCountry(string Code)
{
    public const string MetadataKey = "federation.country";

    public static string? Of(SiloMetadata metadata) =>
        metadata.Metadata.TryGetValue(MetadataKey, out var country) ? country : null;
}
