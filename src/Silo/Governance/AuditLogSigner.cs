using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using Federation.Contracts.Errors;
using Federation.Silo.Hosting;

namespace Federation.Silo.Governance;

/// <summary>
/// Signs the audit log's tree heads with the federation operator's key, on the silo configured with it
/// (<see cref="FederationSiloOptions.OperatorKeyPath"/>); the key is read from its file when first needed and never logged.
/// </summary>
public sealed class AuditLogSigner(FederationSiloOptions options) : IDisposable
{
    private readonly Lazy<ParticipantSigningKey> _key = new(() => Load(options));

    public SignedTreeHead Sign(TreeHead head) => SignedTreeHead.Sign(head, _key.Value);

    private static ParticipantSigningKey Load(FederationSiloOptions options)
    {
        if (options.OperatorKeyPath is not { } path)
            throw new FederationOperationException("audit.no-operator-key", $"The {options.Country} silo holds no operator key: it cannot sign the audit log's heads.");
        var key = ParticipantSigningKey.Import(File.ReadAllBytes(path));
        if (options.OperatorPublicKey is { } expected && !key.PublicKey.AsSpan().SequenceEqual(expected))
        {
            key.Dispose();
            throw new FederationOperationException("audit.operator-key-mismatch",
                $"The operator key in {path} is not the one whose public half the {options.Country} silo verifies the membership with.");
        }
        return key;
    }

    public void Dispose()
    {
        if (_key.IsValueCreated)
            _key.Value.Dispose();
    }
}
