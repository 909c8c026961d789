using System.Diagnostics.CodeAnalysis;
using FedCore.Governance.Canonical;
using FedCore.Governance.Membership;

namespace FedCore.Audit.Entries;

/// <summary>Who an audit entry says acted.</summary>
public enum AuditActorKind
{
    /// <summary>The federation operator: <c>federation</c>.</summary>
    Federation,
    /// <summary>A country's silo: <c>silo/HU</c>.</summary>
    Silo,
    /// <summary>A member organisation: <c>HU/budapest</c> (<see cref="OrganisationId"/>).</summary>
    Organisation,
    /// <summary>A portal user by the subject its sign-in scheme gives: <c>user/&lt;subject&gt;</c>.</summary>
    User,
}

/// <summary>
/// Who did what an entry records, in one of four written forms that cannot be confused: <c>federation</c>,
/// <c>silo/&lt;COUNTRY&gt;</c>, <c>&lt;COUNTRY&gt;/&lt;name&gt;</c> (an organisation) and <c>user/&lt;subject&gt;</c>
/// (the subject under the identifier rules of <see cref="AuditValueType.Identifier"/>). Immutable; equal when the
/// written forms are.
/// </summary>
public sealed class AuditActor : IEquatable<AuditActor>
{
    private const string SiloPrefix = "silo/";
    private const string UserPrefix = "user/";

    private AuditActor(AuditActorKind kind, string name, string? country)
    {
        Kind = kind;
        Name = name;
        Country = country;
    }

    public AuditActorKind Kind { get; }

    /// <summary>The written form, e.g. <c>silo/HU</c>.</summary>
    public string Name { get; }

    /// <summary>The country of a silo or an organisation; null for the federation and users.</summary>
    public string? Country { get; }

    /// <summary>A user's subject (without <c>user/</c>); null for other actors.</summary>
    public string? Subject => Kind == AuditActorKind.User ? Name[UserPrefix.Length..] : null;

    public static AuditActor Federation { get; } = new(AuditActorKind.Federation, "federation", null);

    /// <exception cref="ArgumentException">Not a country code.</exception>
    public static AuditActor Silo(string country) => Parse(SiloPrefix + country);

    /// <exception cref="ArgumentException">Not an organisation id.</exception>
    public static AuditActor Organisation(string id) =>
        id is not null && !id.StartsWith(SiloPrefix, StringComparison.Ordinal) && !id.StartsWith(UserPrefix, StringComparison.Ordinal) ? Parse(id)
            : throw new ArgumentException($"'{id}' is not an organisation id", nameof(id));

    /// <exception cref="ArgumentException">A subject outside the identifier rules.</exception>
    public static AuditActor User(string subject) => Parse(UserPrefix + subject);

    /// <exception cref="ArgumentException">Not one of the four forms.</exception>
    public static AuditActor Parse(string name) => TryParse(name, out var actor, out var error) ? actor : throw new ArgumentException(error, nameof(name));

    public static bool TryParse(string? name, [NotNullWhen(true)] out AuditActor? actor, [NotNullWhen(false)] out string? error)
    {
        actor = null;
        error = null;
        if (name == Federation.Name)
            actor = Federation;
        else if (name is null)
            error = "an actor is required";
        else if (name.StartsWith(SiloPrefix, StringComparison.Ordinal))
        {
            string country = name[SiloPrefix.Length..];
            if (Formats.IsCountryCode(country))
                actor = new(AuditActorKind.Silo, name, country);
            else
                error = $"'{AuditValue.Shorten(name)}': a silo is silo/<COUNTRY>, the country two capital letters";
        }
        else if (name.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            if (name.Length > AuditValue.MaxIdentifierLength)
                error = $"an actor has at most {AuditValue.MaxIdentifierLength} characters, not {name.Length}";
            else if (AuditValue.IdentifierProblem(name[UserPrefix.Length..]) is { } problem)
                error = $"user subject: {problem}";
            else
                actor = new(AuditActorKind.User, name, null);
        }
        else if (OrganisationId.TryParse(name, out var country, out var orgError))
        {
            if (AuditValue.IdentifierProblem(name) is { } problem)
                error = problem;
            else
                actor = new(AuditActorKind.Organisation, name, country);
        }
        else
            error = $"'{AuditValue.Shorten(name)}' is not an actor: federation, silo/<COUNTRY>, <COUNTRY>/<name> or user/<subject> ({orgError})";
        return actor is not null;
    }

    public bool Equals(AuditActor? other) => other is not null && Name == other.Name;

    public override bool Equals(object? obj) => Equals(obj as AuditActor);

    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Name;
}
