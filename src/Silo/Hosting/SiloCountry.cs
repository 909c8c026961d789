namespace Federation.Silo.Hosting;

/// <summary>The country this silo runs in (declared to the others through <see cref="SiloDeclarations"/>).</summary>
public sealed record SiloCountry(string Code);
