using System.Collections.Immutable;

namespace FedCore.Policy.Language;

/// <summary>
/// The facts of one object of the schema for one plan (the plan, a dataset, a transfer, …). Values are
/// <see cref="bool"/>, <see cref="decimal"/>, <see cref="string"/>, <see cref="DateOnly"/>, lists of those or of
/// fact objects (<see cref="ImmutableArray{T}"/> of object), or fact objects. A fact that is absent was not given.
/// </summary>
public sealed class FactObject(string path, ImmutableDictionary<string, object> facts)
{
    /// <summary>Where the object sits among the facts (<c>plan</c>, <c>plan.datasets[2]</c>), for the facts a rule read.</summary>
    public string Path { get; } = path;

    public ImmutableDictionary<string, object> Facts { get; } = facts;

    /// <summary>The fact's value, or <see cref="Missing"/> naming it.</summary>
    public object Get(string name) => Facts.TryGetValue(name, out var value) ? value : new Missing($"{Path}.{name}");

    /// <summary>A list of objects, each with its path (<c>plan.datasets[0]</c>, …).</summary>
    public static ImmutableArray<object> List<T>(string path, IEnumerable<T> items, Func<T, string, FactObject> make) =>
        [.. items.Select((item, i) => (object)make(item, $"{path}[{i}]"))];
}

/// <summary>A fact the plan did not give: a condition that needs it is undetermined.</summary>
public sealed record Missing(string Fact);
