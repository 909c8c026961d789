using System.Security.Cryptography;
using System.Text;

namespace FedCore.Data;

/// <summary>
/// Reads a delimited text file under a <see cref="DatasetSchema"/> into a <see cref="TabularData"/>
/// (raw, unscaled features with categorical columns one-hot expanded) and its <see cref="DatasetMetadata"/>.
/// </summary>
/// <remarks>
/// The file is streamed line by line and hashed as it is read. Lines may end in LF or CRLF; blank lines are
/// skipped (they still count for line numbers); cells are trimmed; a cell may be quoted with double quotes
/// ("" inside quotes is one quote) but cannot span lines. Loading is a pure function of the bytes and the
/// schema: it either returns a new dataset or throws a <see cref="DatasetException"/>, touching nothing else. Errors name
/// the file, line, column and what is wrong, never a cell's content: they may leave the participant's country.
/// </remarks>
public static class CsvDatasetReader
{
    /// <exception cref="DatasetException">The file is missing, unreadable, or a cell does not fit the schema.</exception>
    public static LoadedDataset Load(string path, DatasetSchema schema, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(schema);
        using var file = Open(path);
        return Load(file, path, schema, cancellationToken);
    }

    /// <summary>
    /// As <see cref="Load(string, DatasetSchema, CancellationToken)"/>, for rows to score: a row whose label cell is empty or a
    /// missing-value marker is kept, with the label NaN (whatever the schema's missing-value policy); a row with a missing
    /// feature is still dropped (or refused). <see cref="LoadedDataset.Lines"/> tells which line each row came from.
    /// </summary>
    /// <exception cref="DatasetException">The file is missing, unreadable, or a cell does not fit the schema.</exception>
    public static LoadedDataset LoadForScoring(string path, DatasetSchema schema, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(schema);
        using var file = Open(path);
        return new Loader(path, schema, labelsOptional: true).Read(file, cancellationToken);
    }

    /// <param name="stream">Read from its current position to its end; not closed.</param>
    /// <param name="filePath">Named in errors and metadata.</param>
    /// <exception cref="DatasetException">A line or cell does not fit the schema.</exception>
    public static LoadedDataset Load(Stream stream, string filePath, DatasetSchema schema, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(filePath);
        ArgumentNullException.ThrowIfNull(schema);
        return new Loader(filePath, schema, labelsOptional: false).Read(stream, cancellationToken);
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DatasetException(path, null, null, null, $"the data file '{Path.GetFullPath(path)}' does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, null, null, null, $"cannot open the data file '{Path.GetFullPath(path)}': {e.Message}", e);
        }
    }

    private sealed class Loader
    {
        private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly string _filePath;
        private readonly DatasetSchema _schema;
        private readonly int[] _featureColumns;
        private readonly int _labelColumn;
        private readonly HashSet<string> _missingMarkers;
        private readonly List<string> _cells = [];
        private readonly float[] _row;
        private readonly List<float> _features = [];
        private readonly List<float> _labels = [];
        private readonly List<int> _lines = [];
        private readonly bool _labelsOptional;
        private int _line;

        public Loader(string filePath, DatasetSchema schema, bool labelsOptional)
        {
            _filePath = filePath;
            _schema = schema;
            _labelsOptional = labelsOptional;
            var columnIndex = schema.Columns.Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index, StringComparer.Ordinal);
            _featureColumns = schema.Features.Select(feature => columnIndex[feature.Column]).ToArray();
            _labelColumn = columnIndex[schema.Label.Column];
            _missingMarkers = new HashSet<string>(schema.MissingValues, StringComparer.Ordinal) { "" };
            _row = new float[schema.FeatureNames.Count];
        }

        public LoadedDataset Read(Stream stream, CancellationToken cancellationToken)
        {
            using var hashing = new HashingReadStream(stream);
            using var reader = new StreamReader(hashing, StrictUtf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            bool headerSeen = !_schema.HasHeader;
            int rawRows = 0;
            try
            {
                while (reader.ReadLine() is { } text)
                {
                    _line++;
                    if ((_line & 1023) == 0)
                        cancellationToken.ThrowIfCancellationRequested();
                    if (string.IsNullOrWhiteSpace(text))
                        continue;
                    SplitCells(text);
                    if (!headerSeen)
                    {
                        CheckHeader();
                        headerSeen = true;
                        continue;
                    }
                    rawRows++;
                    ReadRow();
                }
            }
            catch (DecoderFallbackException e)
            {
                // The decoder works a buffer ahead of the line count, so no line number can be trusted here.
                throw new DatasetException(_filePath, null, null, null, $"the file is not UTF-8 text (invalid byte near line {_line + 1}): {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new DatasetException(_filePath, _line + 1, null, null, $"reading failed: {e.Message}", e);
            }

            if (hashing.BytesRead == 0)
                throw FileError("the file is empty");
            if (rawRows == 0)
                throw FileError(_schema.HasHeader ? "the file has a header but no data rows" : "the file has no data rows");
            if (_labels.Count == 0)
                throw FileError($"none of the {rawRows} data rows is usable: each has a missing value in a feature or label column");

            var data = new TabularData(_features.ToArray(), _labels.ToArray(), _schema.FeatureNames);
            var metadata = new DatasetMetadata(
                _schema.Name,
                Path.GetFileName(_filePath),
                RowCount: _labels.Count,
                RawRowCount: rawRows,
                DroppedRowCount: rawRows - _labels.Count,
                _schema.FeatureNames,
                _schema.Hash,
                hashing.HashHex());
            return new LoadedDataset(data, metadata, _lines.ToArray());
        }

        private void CheckHeader()
        {
            var columns = _schema.Columns;
            if (_cells.Count != columns.Count)
                throw LineError(null, null, $"the header has {_cells.Count} columns but the schema declares {columns.Count} ({string.Join(",", columns)})");
            for (int i = 0; i < columns.Count; i++)
            {
                if (!string.Equals(_cells[i], columns[i], StringComparison.Ordinal))
                    throw LineError(i, columns[i], $"the header does not name this column '{columns[i]}' as the schema does");
            }
        }

        private void ReadRow()
        {
            var columns = _schema.Columns;
            if (_cells.Count != columns.Count)
            {
                int first = Math.Min(_cells.Count, columns.Count);
                throw LineError(first, first < columns.Count ? columns[first] : null,
                    $"expected {columns.Count} columns ({string.Join(",", columns)}) but found {_cells.Count}");
            }

            bool missing = false;
            int output = 0;
            for (int f = 0; f < _featureColumns.Length; f++)
            {
                var feature = _schema.Features[f];
                int column = _featureColumns[f];
                int width = feature.Kind == FeatureKind.Numeric ? 1 : feature.Categories!.Count;
                if (IsMissing(column))
                {
                    missing = true;
                }
                else if (feature.Kind == FeatureKind.Numeric)
                {
                    _row[output] = ParseFloat(column);
                }
                else
                {
                    int category = feature.Categories!.IndexOf(_cells[column]);
                    if (category < 0)
                        throw CellError(column, $"the value is not a category of '{feature.Column}' (allowed: {feature.Categories})");
                    Array.Clear(_row, output, width);
                    _row[output + category] = 1f;
                }
                output += width;
            }

            float label = 0;
            if (_labelsOptional && _missingMarkers.Contains(_cells[_labelColumn]))
                label = float.NaN; // a row to score needs no label
            else if (IsMissing(_labelColumn))
                missing = true;
            else
                label = ParseLabel();

            // Every cell is checked before a row is dropped, so a malformed cell is never hidden by a missing one.
            if (missing)
                return;
            if ((long)_features.Count + _row.Length > Array.MaxLength)
                throw LineError(null, null, "too many rows to hold in one table");
            _features.AddRange(_row);
            _labels.Add(label);
            _lines.Add(_line);
        }

        private float ParseLabel()
        {
            var spec = _schema.Label;
            var cell = _cells[_labelColumn];
            switch (spec.Kind)
            {
                case LabelKind.Binary:
                    if (!InvariantNumber.TryParse(cell, out var value))
                        throw CellError(_labelColumn, "the label is not a number, so it cannot be compared with the threshold");
                    return spec.PositiveWhen!.IsPositive(value) ? 1f : 0f;
                case LabelKind.Classes:
                    int index = spec.Classes!.IndexOf(cell);
                    if (index < 0)
                        throw CellError(_labelColumn, $"the label is not one of the classes (allowed: {spec.Classes})");
                    return index;
                default:
                    return ParseFloat(_labelColumn);
            }
        }

        private bool IsMissing(int column)
        {
            if (!_missingMarkers.Contains(_cells[column]))
                return false;
            if (_schema.Missing == MissingValuePolicy.Fail)
                throw CellError(column, "a missing value, and the schema says \"missing\": \"fail\"");
            return true;
        }

        private float ParseFloat(int column)
        {
            var cell = _cells[column];
            if (!InvariantNumber.TryParse(cell, out var value))
                throw CellError(column, "the value is not a number");
            var single = (float)value;
            if (!float.IsFinite(single))
                throw CellError(column, "the value is outside the range of a 32-bit float");
            return single;
        }

        /// <summary>Splits the current line into trimmed cells; a quoted cell keeps delimiters inside it.</summary>
        private void SplitCells(string text)
        {
            _cells.Clear();
            char delimiter = _schema.Delimiter;
            int i = 0;
            while (true)
            {
                while (i < text.Length && text[i] != delimiter && char.IsWhiteSpace(text[i]))
                    i++;
                string cell;
                if (i < text.Length && text[i] == '"')
                {
                    var quoted = new StringBuilder();
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                            throw LineError(_cells.Count, ColumnName(_cells.Count), "a quoted cell has no closing quote (cells cannot span lines)");
                        if (text[i] == '"')
                        {
                            if (i + 1 < text.Length && text[i + 1] == '"')
                            {
                                quoted.Append('"');
                                i += 2;
                                continue;
                            }
                            i++;
                            break;
                        }
                        quoted.Append(text[i++]);
                    }
                    while (i < text.Length && text[i] != delimiter && char.IsWhiteSpace(text[i]))
                        i++;
                    if (i < text.Length && text[i] != delimiter)
                        throw LineError(_cells.Count, ColumnName(_cells.Count), "text follows the closing quote of a quoted cell");
                    cell = quoted.ToString().Trim();
                }
                else
                {
                    int end = text.IndexOf(delimiter, i);
                    if (end < 0)
                        end = text.Length;
                    cell = text[i..end].Trim();
                    i = end;
                }
                _cells.Add(cell);
                if (i >= text.Length)
                    return;
                i++; // past the delimiter; a delimiter at the end of the line leaves one more, empty, cell
                if (i == text.Length)
                {
                    _cells.Add("");
                    return;
                }
            }
        }

        private string? ColumnName(int index) => index < _schema.Columns.Count ? _schema.Columns[index] : null;

        private DatasetException CellError(int column, string reason) => LineError(column, _schema.Columns[column], reason);

        private DatasetException LineError(int? column, string? columnName, string reason) =>
            new(_filePath, _line, column + 1, columnName, reason);

        private DatasetException FileError(string reason) => new(_filePath, null, null, null, reason);
    }

    /// <summary>Passes reads through and hashes every byte, so the file is read once for both rows and checksum.</summary>
    private sealed class HashingReadStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long BytesRead { get; private set; }

        public string HashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            _hash.AppendData(buffer[..read]);
            BytesRead += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
