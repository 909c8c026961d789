using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>The type of a fact or of a condition's value: a scalar, a list of one type, or an object of named facts.</summary>
public abstract record FactType
{
    public static readonly FactType Boolean = new ScalarType("boolean");
    public static readonly FactType Number = new ScalarType("number");
    public static readonly FactType Text = new ScalarType("string");
    public static readonly FactType Date = new ScalarType("date");

    public static FactType ListOf(FactType element) => new ListType(element);

    public bool IsScalar => this is ScalarType;

    public bool IsOrdered => this == Number || this == Date;

    public abstract string Describe();

    public override string ToString() => Describe();
}

public sealed record ScalarType(string Name) : FactType
{
    public override string Describe() => Name;
}

public sealed record ListType(FactType Element) : FactType
{
    public override string Describe() => $"list of {Element.Describe()}";
}

/// <summary>
/// A group of facts such as <c>plan</c> or a dataset. A field marked optional may be absent from a plan; a rule that
/// needs it is then undetermined, which denies.
/// </summary>
public sealed record ObjectType(string Name, ImmutableArray<FactField> Fields) : FactType
{
    public FactField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    public override string Describe() => Name;

    public bool Equals(ObjectType? other) => other is not null && other.Name == Name;

    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
}

/// <summary>One fact of an object: its name, type, whether a plan may leave it out, and what it means.</summary>
public sealed record FactField(string Name, FactType Type, bool Optional, string Meaning);
