using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance;
using FedCore.Governance.Agreements;
using static FedCore.Tests.Governance.GovernanceFixture;

namespace FedCore.Tests.Governance;

public sealed class AgreementJsonTests
{
    private static AgreementReferences References(DateTimeOffset? now = null) => new(Membership(), Catalog(), now);

    private static GovernanceFormatException TermsRefused(Action<JsonNode> edit, DateTimeOffset? now = null)
    {
        var root = JsonNode.Parse(AgreementJson.Write(Terms()))!;
        edit(root);
        return Assert.Throws<GovernanceFormatException>(() =>
            AgreementJson.ParseTerms(Encoding.UTF8.GetBytes(root.ToJsonString()), "terms.json", References(now)));
    }

    private static GovernanceFormatException DocumentRefused(Agreement agreement, Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(AgreementJson.Write(agreement))!;
        edit(root);
        return Assert.Throws<GovernanceFormatException>(() =>
            AgreementJson.ParseAgreement(Encoding.UTF8.GetBytes(root.ToJsonString()), "agreement.json", References()));
    }

    [Fact]
    public void Terms_and_signed_documents_round_trip_and_reordering_keeps_every_signature()
    {
        var termsFile = AgreementJson.Write(Terms());
        var terms = AgreementJson.ParseTerms(termsFile, "terms.json", References(Now));
        Assert.Equal(Terms().Digest, terms.Digest);
        Assert.Equal(termsFile, AgreementJson.Write(terms));

        var suspended = Change(Active(), StatusChangeKind.Suspend, Zurich);
        var file = AgreementJson.Write(suspended);
        var root = JsonNode.Parse(file)!;
        var parties = root["terms"]!["parties"]!.AsArray();
        var last = parties[^1]!.DeepClone();
        parties.RemoveAt(parties.Count - 1);
        parties.Insert(0, last);
        var read = AgreementJson.ParseAgreement(Encoding.UTF8.GetBytes(root.ToJsonString()), "agreement.json", References());

        Assert.Equal(file, AgreementJson.Write(read));
        Assert.Equal(AgreementState.Suspended, read.StateAt(Now));
        read.Verify(Membership());
    }

    [Fact]
    public void Training_terms_round_trip_and_a_bad_one_is_named_by_its_path()
    {
        var bounded = Terms() with { Training = new TrainingTerms([new StrategyTerms("fedavg", 1m), new StrategyTerms("fedadam", 0.01m, Tau: 0.01m)], 0.001m) };
        var file = AgreementJson.Write(bounded);
        var read = AgreementJson.ParseTerms(file, "terms.json", References(Now));
        Assert.Equal(bounded.Digest, read.Digest);
        Assert.Equal(0.01m, read.Training!.Strategies[1].Tau);

        var root = JsonNode.Parse(file)!;
        root["training"]!["minLearningRate"] = 0;
        var zero = Assert.Throws<GovernanceFormatException>(() => AgreementJson.ParseTerms(Encoding.UTF8.GetBytes(root.ToJsonString()), "terms.json", References(Now)));
        Assert.Equal("$.training.minLearningRate", zero.JsonPath);
        root["training"]!["minLearningRate"] = 0.001;
        root["training"]!["strategies"]![0]!["name"] = "sgd";
        var unknown = Assert.Throws<GovernanceFormatException>(() => AgreementJson.ParseTerms(Encoding.UTF8.GetBytes(root.ToJsonString()), "terms.json", References(Now)));
        Assert.Equal("$.training.strategies[0]", unknown.JsonPath);
        Assert.Contains("Unknown strategy 'sgd'", unknown.Message);

        // A cap on one party's share of the rows: written only when present (terms without it keep their digest), in (0, 1].
        var capped = bounded with { Training = bounded.Training! with { MaxRowShare = 0.5m } };
        Assert.NotEqual(bounded.Digest, capped.Digest);
        Assert.Equal(0.5m, AgreementJson.ParseTerms(AgreementJson.Write(capped), "terms.json", References(Now)).Training!.MaxRowShare);
        var over = JsonNode.Parse(AgreementJson.Write(capped))!;
        over["training"]!["maxRowShare"] = 1.5;
        var share = Assert.Throws<GovernanceFormatException>(() => AgreementJson.ParseTerms(Encoding.UTF8.GetBytes(over.ToJsonString()), "terms.json", References(Now)));
        Assert.Equal("$.training.maxRowShare", share.JsonPath);
        Assert.Contains("must lie in (0, 1]", share.Message);
    }

    [Fact]
    public void A_party_that_is_not_a_member_is_named_by_its_path()
    {
        var e = TermsRefused(root => root["parties"]![1]!["organisation"] = "XX/nope");
        Assert.Equal("$.parties[1].organisation", e.JsonPath);
        Assert.Equal("terms.json: $.parties[1].organisation: 'XX/nope' is not a member of the federation (membership record 2)", e.Message);
    }

    [Theory]
    [InlineData("parties[0].datasets[0]", "not in the dataset catalog")]
    [InlineData("validUntil", "window ended")]
    [InlineData("colour", "not a known field")]
    [InlineData("minParticipants", "must be from 3 to the number of parties (4), not 2")]
    [InlineData("minParticipants:5", "not 5")]
    [InlineData("minParticipants:type", "whole number")]
    [InlineData("parties[3].organisation", "listed twice")]
    [InlineData("parties[0].datasets[1]", "listed twice")]
    [InlineData("modelClasses[0]", "linear, logistic, svm, mlp, cnn")]
    [InlineData("updateDestinations[0]", "alpha-2")]
    [InlineData("protection.scheme", "only in an agreement marked \"simulation\": true")]
    [InlineData("protection.updateBound", "must be positive")]
    [InlineData("protection.updateBound:huge", "no exact decimal form")]
    [InlineData("differentialPrivacy.delta", "strictly between 0 and 1")]
    [InlineData("validUntil:order", "must be later than validFrom")]
    [InlineData("validFrom", "UTC time")]
    [InlineData("parties", "at least 3 parties")]
    [InlineData("simulation", "true or false")]
    [InlineData("parties[0].sector", "is not a name")]
    [InlineData("parties[0].attestations[1]", "listed twice")]
    [InlineData("transferMechanisms[0].to", "alpha-2")]
    [InlineData("transferMechanisms[0].transferImpactAssessment", "true or false")]
    [InlineData("transferMechanisms[0].clause", "not a known field")]
    public void Each_bad_field_is_refused_naming_its_path(string field, string expected)
    {
        var e = TermsRefused(root =>
        {
            var parties = root["parties"]!.AsArray();
            switch (field)
            {
                case "parties[0].datasets[0]": parties[0]!["datasets"]![0] = "lungs"; break;
                case "validUntil": break;
                case "colour": root["colour"] = "blue"; break;
                case "minParticipants": root["minParticipants"] = 2; break;
                case "minParticipants:5": root["minParticipants"] = 5; break;
                case "minParticipants:type": root["minParticipants"] = 3.5; break;
                case "parties[3].organisation": parties[3]!["organisation"] = parties[0]!["organisation"]!.GetValue<string>(); break;
                case "parties[0].datasets[1]": parties[0]!["datasets"]!.AsArray().Add("heart"); break;
                case "modelClasses[0]": root["modelClasses"]![0] = "transformer"; break;
                case "updateDestinations[0]": root["updateDestinations"]![0] = "Switzerland"; break;
                case "protection.scheme": root["protection"]!["scheme"] = "plaintext-simulation"; break;
                case "protection.updateBound": root["protection"]!["updateBound"] = 0; break;
                case "protection.updateBound:huge": root["protection"]!["updateBound"] = JsonNode.Parse("1e400"); break;
                case "differentialPrivacy.delta": root["differentialPrivacy"]!["delta"] = 1; break;
                case "validUntil:order": root["validUntil"] = root["validFrom"]!.GetValue<string>(); break;
                case "validFrom": root["validFrom"] = "2025-03-01"; break;
                case "parties": parties.RemoveAt(0); parties.RemoveAt(0); root["minParticipants"] = 2; break;
                case "simulation": root["simulation"] = "no"; break;
                case "parties[0].sector": parties[0]!["sector"] = "public sector"; break;
                case "parties[0].attestations[1]": parties[0]!["attestations"] = new JsonArray("gdpr-art9-research", "gdpr-art9-research"); break;
                case "transferMechanisms[0].to": root["transferMechanisms"] = Mechanisms("USA", true); break;
                case "transferMechanisms[0].transferImpactAssessment": root["transferMechanisms"] = Mechanisms("US", "yes"); break;
                case "transferMechanisms[0].clause": root["transferMechanisms"] = Mechanisms("US", true, ("clause", "8.2")); break;
            }
        }, now: field == "validUntil" ? T0.AddDays(365) : Now);
        string path = "$." + field.Split(':')[0];
        if (field == "parties")
            path = "$.parties";
        Assert.Equal(path, e.JsonPath);
        Assert.Contains(expected, e.Problem);
    }

    [Fact]
    public void An_impossible_history_in_a_document_is_refused_with_its_path()
    {
        var draftSigned = DocumentRefused(SignedBy(Proposed(), Budapest), root => root["proposed"] = false);
        Assert.Equal("$.signatures[0]", draftSigned.JsonPath);
        Assert.Contains("cannot sign in state draft", draftSigned.Problem);

        var suspended = Change(Active(), StatusChangeKind.Suspend, Zurich);
        var twice = DocumentRefused(suspended, root => root["statusChanges"]!.AsArray().Add(root["statusChanges"]![0]!.DeepClone()));
        Assert.Equal("$.statusChanges[1]", twice.JsonPath);
        Assert.Contains("cannot suspend in state suspended", twice.Problem);

        var stranger = DocumentRefused(SignedBy(Proposed(), Budapest), root => root["signatures"]![0]!["party"] = "AT/vienna");
        Assert.Contains("not a party", stranger.Problem);

        var kind = DocumentRefused(suspended, root => root["statusChanges"]![0]!["change"]!["kind"] = "pause");
        Assert.Equal("$.statusChanges[0].change.kind", kind.JsonPath);
    }

    [Fact]
    public void A_document_with_an_altered_signature_reads_but_does_not_verify()
    {
        var file = AgreementJson.Write(Active());
        var root = JsonNode.Parse(file)!;
        var signature = Convert.FromBase64String(root["signatures"]![0]!["signature"]!.GetValue<string>());
        signature[10] ^= 0x40;
        root["signatures"]![0]!["signature"] = Convert.ToBase64String(signature);
        var read = AgreementJson.ParseAgreement(Encoding.UTF8.GetBytes(root.ToJsonString()), "agreement.json", References());
        var e = Assert.Throws<AgreementException>(() => read.Verify(Membership()));
        Assert.Contains("signature of 'CH/zurich' does not verify", e.Message);
    }

    private static JsonArray Mechanisms(string to, JsonNode? assessed, params (string Key, string Value)[] extra)
    {
        var mechanism = new JsonObject { ["from"] = "HU", ["to"] = to, ["mechanism"] = "eu-scc-2021", ["transferImpactAssessment"] = assessed };
        foreach (var (key, value) in extra)
            mechanism[key] = value;
        return [mechanism];
    }

    [Fact]
    public void What_parties_state_of_themselves_and_the_transfer_mechanisms_are_signed_terms()
    {
        var terms = Terms() with
        {
            Parties = [.. Terms().Parties.Select((p, i) => i == 0 ? p with { Sector = "public", Attestations = ["gdpr-art9-research"], Certifications = ["iso-27001"] } : p)],
            TransferMechanisms = [new TransferMechanismTerms("HU", "US", "eu-scc-2021", true)],
        };
        var read = AgreementJson.ParseTerms(AgreementJson.Write(terms), "terms.json", References(Now));
        Assert.Equal(terms.Digest, read.Digest);
        Assert.Equal(["gdpr-art9-research"], read.Party(terms.Parties[0].Organisation)!.Attestations.ToArray());
        Assert.Equal(new TransferMechanismTerms("HU", "US", "eu-scc-2021", true), Assert.Single(read.TransferMechanisms));

        // Each is part of what every party signs: dropping one changes the digest, so no signature carries over.
        Assert.NotEqual(terms.Digest, (terms with { TransferMechanisms = [] }).Digest);
        Assert.NotEqual(terms.Digest, (terms with { Parties = [terms.Parties[0] with { Attestations = [] }, .. terms.Parties[1..]] }).Digest);
        // A file that leaves them out states none.
        Assert.Empty(AgreementJson.ParseTerms(AgreementJson.Write(Terms()), "terms.json", References(Now)).TransferMechanisms);
    }
}
