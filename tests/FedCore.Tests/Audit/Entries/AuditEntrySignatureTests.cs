using FedCore.Aggregation.Integrity;
using FedCore.Audit;
using FedCore.Audit.Entries;

namespace FedCore.Tests.Audit.Entries;

/// <summary>An organisation's signature on what it records: what it binds, and that its written form is still one.</summary>
public sealed class AuditEntrySignatureTests
{
    private static readonly ParticipantSigningKey Budapest = ParticipantSigningKey.Generate();
    private static readonly ParticipantSigningKey Other = ParticipantSigningKey.Generate();

    private static AuditEntry Consent(string job = "CH/j") => AuditEvents.ParticipantConsented(AuditSamples.At, AuditActor.Organisation("HU/budapest"), "HU", job, "HU/budapest", "heart");

    [Fact]
    public void A_signed_entry_reads_back_the_same_and_verifies_only_with_its_signers_key()
    {
        var signed = Consent().SignedWith(Budapest);
        var bytes = AuditEntryJson.Write(signed);
        var read = AuditEntryJson.Read(bytes, "signed");
        Assert.Equal(bytes, AuditEntryJson.Write(read));
        Assert.True(read.VerifySignature([.. Budapest.PublicKey]));
        Assert.False(read.VerifySignature([.. Other.PublicKey]));
        Assert.False(Consent().VerifySignature([.. Budapest.PublicKey])); // unsigned
        Assert.NotEqual(AuditEntryJson.Write(Consent()), bytes); // the signature is part of the leaf
    }

    [Fact]
    public void A_signature_moved_onto_another_entry_does_not_verify()
    {
        var signature = Consent("CH/real").SignedWith(Budapest).Signature!.Value;
        var json = System.Text.Json.Nodes.JsonNode.Parse(AuditEntryJson.Write(Consent("CH/forged")))!.AsObject();
        json["signature"] = Convert.ToBase64String(signature.AsSpan());
        var forged = AuditEntryJson.Read(FedCore.Governance.Canonical.CanonicalJson.Write(json), "moved");
        Assert.False(forged.VerifySignature([.. Budapest.PublicKey]));
    }

    [Fact]
    public void Every_changed_byte_of_a_signed_entry_is_refused_or_no_longer_verifies()
    {
        var bytes = AuditEntryJson.Write(Consent().SignedWith(Budapest));
        for (int i = 0; i < bytes.Length; i++)
        {
            var changed = (byte[])bytes.Clone();
            changed[i] ^= 0x01;
            AuditEntry read;
            try
            {
                read = AuditEntryJson.Read(changed, "changed");
            }
            catch (AuditFormatException)
            {
                continue;
            }
            Assert.False(read.VerifySignature([.. Budapest.PublicKey]), $"byte {i} changed and the entry still verifies");
        }
    }

    [Fact]
    public void A_signature_that_is_not_64_bytes_is_refused_naming_it()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(AuditEntryJson.Write(Consent()))!.AsObject();
        json["signature"] = "AAAA";
        var e = Assert.Throws<AuditFormatException>(() => AuditEntryJson.Read(FedCore.Governance.Canonical.CanonicalJson.Write(json), "short"));
        Assert.Equal("$.signature", e.JsonPath);
    }
}
