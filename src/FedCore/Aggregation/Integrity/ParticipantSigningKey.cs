using System.Security.Cryptography;

namespace FedCore.Aggregation.Integrity;

/// <summary>
/// A participant's ECDSA P-256 key for signing what it sends out of its country (key shares, sealed updates).
/// The private key is exported only as PKCS#8 bytes for the country's own storage; it has no ToString.
/// </summary>
public sealed class ParticipantSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private ParticipantSigningKey(ECDsa key) => _key = key;

    public static ParticipantSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static ParticipantSigningKey Import(byte[] pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new ArgumentException("The stored signing key is not a PKCS#8 EC private key.", nameof(pkcs8), e);
        }
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"The stored signing key is a {key.KeySize}-bit EC key; participants sign with P-256.", nameof(pkcs8));
        }
        return new ParticipantSigningKey(key);
    }

    /// <summary>For the country's storage only.</summary>
    public byte[] ExportPkcs8() => _key.ExportPkcs8PrivateKey();

    /// <summary>SubjectPublicKeyInfo (DER): what others verify with.</summary>
    public byte[] PublicKey => _key.ExportSubjectPublicKeyInfo();

    public byte[] Sign(ReadOnlySpan<byte> message) => _key.SignData(message, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => _key.Dispose();

    /// <summary>Checks a P-256 signature made by <see cref="Sign"/> against a SubjectPublicKeyInfo.</summary>
    public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        using var key = ImportPublic(publicKey);
        return key is not null && Verify(key, message, signature);
    }

    /// <summary>A P-256 SubjectPublicKeyInfo imported for verifying, or null if it is not one.</summary>
    internal static ECDsa? ImportPublic(byte[] publicKey)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
            if (key.KeySize == 256)
                return key;
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // A key naming a curve the platform does not know throws the latter: as unusable as a malformed one.
        }
        key.Dispose();
        return null;
    }

    internal static bool Verify(ECDsa publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        publicKey.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
