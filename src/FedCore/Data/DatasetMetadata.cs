namespace FedCore.Data;

/// <summary>
/// What may leave the participant about a loaded dataset: counts and fingerprints, never a row.
/// </summary>
/// <param name="Name">The schema's dataset name.</param>
/// <param name="FileName">The data file's name without its folder (folders can reveal local details).</param>
/// <param name="RowCount">Usable rows: those that became rows of the table.</param>
/// <param name="RawRowCount">Data rows in the file (header and blank lines not counted).</param>
/// <param name="DroppedRowCount">Rows left out for a missing value.</param>
/// <param name="FeatureNames">Output features in matrix order, one-hot columns expanded ("cp=1").</param>
/// <param name="SchemaHash">Lower-case hex SHA-256 of the schema's canonical form.</param>
/// <param name="FileSha256">Lower-case hex SHA-256 of every byte of the data file.</param>
public sealed record DatasetMetadata(
    string Name,
    string FileName,
    int RowCount,
    int RawRowCount,
    int DroppedRowCount,
    IReadOnlyList<string> FeatureNames,
    string SchemaHash,
    string FileSha256);

/// <summary>A dataset as loaded on its participant: the rows (which stay) and the metadata (which may travel).</summary>
/// <param name="Lines">The 1-based line of the file each row came from (rows with a missing value leave gaps).</param>
public sealed record LoadedDataset(TabularData Data, DatasetMetadata Metadata, int[] Lines);
