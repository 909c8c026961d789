using System.Security.Cryptography;

namespace FedCore.Data;

/// <summary>The SHA-256 a dataset's file is known by, in lower-case hex (<see cref="DatasetMetadata.FileSha256"/>).</summary>
public static class FileDigest
{
    /// <exception cref="IOException">The file cannot be read (<see cref="FileNotFoundException"/> among others).</exception>
    /// <exception cref="UnauthorizedAccessException">Its owner does not let this process read it.</exception>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken = default)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }
}
