namespace FedCore.Data;

/// <summary>
/// An ordered list of category values fixed federation-wide. A cell matches a category when the strings
/// are equal or when both read as numbers of equal value, so Cleveland's "1.0" is the category "1".
/// </summary>
public sealed class CategoryList
{
    private readonly string[] _values;
    private readonly double?[] _numericValues;

    /// <exception cref="ArgumentException">A value is empty, or two values would match the same cell.</exception>
    public CategoryList(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = values.ToArray();
        _numericValues = new double?[_values.Length];
        for (int i = 0; i < _values.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(_values[i]))
                throw new ArgumentException($"category {i} is empty");
            _numericValues[i] = InvariantNumber.TryParse(_values[i], out var number) ? number : null;
            int earlier = IndexOf(_values[i], before: i);
            if (earlier >= 0)
                throw new ArgumentException($"'{_values[earlier]}' and '{_values[i]}' are the same category");
        }
    }

    public IReadOnlyList<string> Values => _values;

    public int Count => _values.Length;

    /// <summary>Index of the category the cell matches, or -1.</summary>
    public int IndexOf(string cell) => IndexOf(cell, before: _values.Length);

    public override string ToString() => string.Join(", ", _values);

    private int IndexOf(string cell, int before)
    {
        for (int i = 0; i < before; i++)
        {
            if (string.Equals(_values[i], cell, StringComparison.Ordinal))
                return i;
        }
        if (!InvariantNumber.TryParse(cell, out var number))
            return -1;
        for (int i = 0; i < before; i++)
        {
            if (_numericValues[i] == number)
                return i;
        }
        return -1;
    }
}
