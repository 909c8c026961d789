using FedCore.Aggregation.Integrity;

namespace Federation.Silo.Governance;

/// <summary>
/// A signing key kept in a file outside every silo's storage (the operator's, an organisation's approver's): the private
/// key as PKCS#8, readable by its owner only, and its public half (SubjectPublicKeyInfo) next to it, for the silos.
/// </summary>
internal static class KeyFiles
{
    /// <summary>The key in <paramref name="keyPath"/>, made there (and its public half in <paramref name="publicKeyPath"/>) the first time.</summary>
    public static ParticipantSigningKey LoadOrCreate(string keyPath, string publicKeyPath)
    {
        if (File.Exists(keyPath))
            return ParticipantSigningKey.Import(File.ReadAllBytes(keyPath));
        Directory.CreateDirectory(Path.GetDirectoryName(keyPath)!);
        var key = ParticipantSigningKey.Generate();
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // a private key: its owner only
        using (var file = new FileStream(keyPath, create))
            file.Write(key.ExportPkcs8());
        File.WriteAllBytes(publicKeyPath, key.PublicKey);
        return key;
    }
}
