using System.Text;
using FedCore.Audit;
using FedCore.Audit.Entries;
using static FedCore.Tests.Audit.Entries.AuditSamples;

namespace FedCore.Tests.Audit.Entries;

/// <summary>The canonical bytes of an entry: one line, one written form, read closed-world with every error naming its path.</summary>
public class AuditEntryJsonTests
{
    private static AuditEntry Read(string json) => AuditEntryJson.Read(Encoding.UTF8.GetBytes(json), "entry");

    [Fact]
    public void Every_kind_has_a_sample_and_every_sample_round_trips_to_the_same_bytes_on_one_line()
    {
        var samples = All().ToList();
        Assert.Equal(Enum.GetValues<AuditEventKind>().Order(), samples.Select(e => e.Kind).Distinct().Order());
        foreach (var entry in samples)
        {
            var bytes = AuditEntryJson.Write(entry);
            Assert.DoesNotContain((byte)'\n', bytes);
            Assert.DoesNotContain((byte)'\r', bytes);
            var back = AuditEntryJson.Read(bytes, entry.WireName);
            Assert.Equal(entry, back);
            Assert.Equal(bytes, AuditEntryJson.Write(back));
            Assert.Equal(entry.Kind, back.Kind);
            Assert.Equal(entry.Time, back.Time);
            Assert.Equal(entry.Actor, back.Actor);
            Assert.Equal(entry.Country, back.Country);
            Assert.Equal(entry.Fields, back.Fields);
        }
        Assert.Equal(samples.Count, samples.Select(e => Convert.ToHexString(AuditEntryJson.Write(e))).Distinct().Count());
    }

    [Fact]
    public void An_entry_is_written_as_sorted_compact_json_with_lower_case_hex_and_plain_numbers()
    {
        var entry = AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "cohort-2024", "HU/diabetes-2025", 4, 1.25, 1e-7, 1.1, 0.01, 500);
        Assert.Equal(
            """{"actor":"CH/zurich","country":"CH","fields":{"dataset":"cohort-2024","delta":0.0000001,"epsilonSpent":1.25,"job":"HU/diabetes-2025","noiseMultiplier":1.1,"organisation":"CH/zurich","round":4,"samplingRate":0.01,"steps":500},"kind":"dp.reserved","time":"2025-03-01T09:00:00.250Z","v":1}""",
            entry.ToString());
        var signed = AuditEvents.AgreementSigned(At, Ch, "CH", "eu-diabetes-study", D(10), "CH/zurich");
        Assert.Equal(
            "{\"actor\":\"CH/zurich\",\"country\":\"CH\",\"fields\":{\"agreement\":\"eu-diabetes-study\",\"party\":\"CH/zurich\",\"termsDigest\":\"" + D(10).Hex
            + "\"},\"kind\":\"agreement.signed\",\"time\":\"2025-03-01T09:00:00.250Z\",\"v\":1}",
            signed.ToString());
    }

    [Fact]
    public void Numbers_round_trip_exactly_as_binary64()
    {
        foreach (double x in new[] { 0, 1, 0.1, 1.0 / 3, 2.0 / 3 * 1e-7, 1e-12, 123456789.123, 1e20, 0.30000000000000004 })
        {
            var entry = AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, x, 0.5, 1, 1, 0);
            var back = AuditEntryJson.Read(AuditEntryJson.Write(entry), "n");
            Assert.Equal(BitConverter.DoubleToInt64Bits(x), BitConverter.DoubleToInt64Bits(back["epsilonSpent"]!.AsNumber));
        }
        // -0 is written and read as 0; a value with no plain decimal form within 28 places is refused when made.
        Assert.Equal(0, BitConverter.DoubleToInt64Bits(AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, -0.0, 0.5, 1, 1, 0)["epsilonSpent"]!.AsNumber));
        var e = Assert.Throws<AuditEntryException>(() => AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, 1.2345678901234567e-20, 0.5, 1, 1, 0));
        Assert.Equal("epsilonSpent", e.Field);
        Assert.Equal("epsilonSpent", Assert.Throws<AuditEntryException>(() => AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, double.NaN, 0.5, 1, 1, 0)).Field);
    }

    private const string Good =
        """{"actor":"silo/HU","country":"HU","fields":{"job":"HU/j","participants":["CH/zurich","HU/budapest"],"round":4},"kind":"round.started","time":"2025-03-01T09:00:00.250Z","v":1}""";

    [Fact]
    public void The_malformed_sample_is_well_formed_before_it_is_damaged() => Assert.Equal(Good, Read(Good).ToString());

    [Theory]
    [InlineData("\"v\":1", "\"v\":2", "$.v")]
    [InlineData(",\"v\":1", "", "$.v")]
    [InlineData("\"kind\":\"round.started\"", "\"kind\":\"round.begun\"", "$.kind")]
    [InlineData("\"kind\":\"round.started\"", "\"kind\":7", "$.kind")]
    [InlineData("\"time\":\"2025-03-01T09:00:00.250Z\"", "\"time\":\"2025-03-01T09:00:00Z\"", "$.time")]
    [InlineData("\"time\":\"2025-03-01T09:00:00.250Z\"", "\"time\":\"2025-03-01T09:00:00.250+00:00\"", "$.time")]
    [InlineData("\"time\":\"2025-03-01T09:00:00.250Z\"", "\"time\":\"1969-12-31T23:59:59.999Z\"", "$.time")]
    [InlineData("\"actor\":\"silo/HU\"", "\"actor\":\"silo/hu\"", "$.actor")]
    [InlineData("\"actor\":\"silo/HU\"", "\"actor\":\"HU/budapest\"", "$.actor")] // an organisation may not start a round
    [InlineData("\"actor\":\"silo/HU\"", "\"actor\":\"operator\"", "$.actor")]
    [InlineData("\"country\":\"HU\"", "\"country\":\"CH\"", "$.country")] // a silo acts in its own country
    [InlineData("\"country\":\"HU\"", "\"country\":\"hu\"", "$.country")]
    [InlineData("\"actor\":\"silo/HU\",", "", "$.actor")]
    [InlineData("\"fields\":{", "\"fields\":{\"secret\":\"x\",", "$.fields.secret")]
    [InlineData("\"fields\":{", "\"fields\":{\"job\":\"HU/k\",", "$.fields.job")]
    [InlineData("\"fields\":{", "\"fields\":{\"attempt\":null,", "$.fields.attempt")]
    [InlineData("\"fields\":{", "\"fields\":{\"attempt\":0,", "$.fields.attempt")]
    [InlineData("\"fields\":{", "\"fields\":{\"planDigest\":\"abc\",", "$.fields.planDigest")]
    [InlineData("\"job\":\"HU/j\",", "", "$.fields.job")]
    [InlineData("\"job\":\"HU/j\"", "\"job\":\"HU j\"", "$.fields.job")]
    [InlineData("\"job\":\"HU/j\"", "\"job\":[\"HU/j\"]", "$.fields.job")]
    [InlineData("\"round\":4", "\"round\":\"4\"", "$.fields.round")]
    [InlineData("\"round\":4", "\"round\":4.0", "$.fields.round")]
    [InlineData("\"round\":4", "\"round\":4e0", "$.fields.round")]
    [InlineData("\"round\":4", "\"round\":0", "$.fields.round")]
    [InlineData("\"round\":4", "\"round\":99999999999999999999", "$.fields.round")]
    [InlineData("\"CH/zurich\",", "\"CH/zurich\",\"ch/zurich\",", "$.fields.participants[1]")]
    [InlineData("\"CH/zurich\",", "17,", "$.fields.participants[0]")]
    [InlineData("[\"CH/zurich\",\"HU/budapest\"]", "\"CH/zurich\"", "$.fields.participants")]
    [InlineData("\"fields\":{\"job\":\"HU/j\",\"participants\":[\"CH/zurich\",\"HU/budapest\"],\"round\":4}", "\"fields\":[]", "$.fields")]
    [InlineData("{\"actor\"", "{\"actor\":\"silo/HU\",\"actor\"", "$.actor")]
    [InlineData("\"round\":4}", "\"round\":4,\"round\":4}", "$.fields.round")]
    [InlineData("\"v\":1}", "\"v\":1} ", "$")]
    [InlineData("\"v\":1}", "\"v\":1}\n", "$")]
    [InlineData("{\"actor\":\"silo/HU\",\"country\":\"HU\",", "{\"country\":\"HU\",\"actor\":\"silo/HU\",", "$")] // key order
    [InlineData("\"country\":\"HU\"", "\"country\": \"HU\"", "$")]
    [InlineData("\"country\":\"HU\"", "\"country\":\"\\u0048U\"", "$")] // an escape the writer does not use
    [InlineData("\"v\":1}", "\"v\":1", "$")]
    public void Each_defect_is_refused_naming_its_path(string find, string replace, string path)
    {
        Assert.Contains(find, Good);
        string damaged = Good.Replace(find, replace);
        var e = Assert.Throws<AuditFormatException>(() => Read(damaged));
        Assert.Equal(path, e.JsonPath);
        Assert.Equal("entry", e.SourceName);
    }

    [Fact]
    public void Defects_inside_other_kinds_name_their_path()
    {
        var decision = AuditEvents.PolicyDecided(At, SiloHu, "HU", DecisionSubject.Job, "HU/j", DecisionEffect.Deny, D(1), D(2), ["first", "second"], ["r1"]);
        string json = decision.ToString();
        Assert.Equal("$.fields.reasons[1]", Assert.Throws<AuditFormatException>(() => Read(json.Replace("\"second\"", "\"two\\nlines\""))).JsonPath);
        Assert.Equal("$.fields.reasons[0]", Assert.Throws<AuditFormatException>(() => Read(json.Replace("\"first\"", "\" first\""))).JsonPath);
        Assert.Equal("$.fields.effect", Assert.Throws<AuditFormatException>(() => Read(json.Replace("\"deny\"", "\"maybe\""))).JsonPath);
        Assert.Equal("$.fields.setHash", Assert.Throws<AuditFormatException>(() => Read(json.Replace(D(1).Hex, D(1).Hex.ToUpperInvariant()))).JsonPath);
        Assert.Equal("$.fields.setHash", Assert.Throws<AuditFormatException>(() => Read(json.Replace(D(1).Hex, D(1).Hex[..62]))).JsonPath);
        Assert.Equal("$.fields.rules[0]", Assert.Throws<AuditFormatException>(() => Read(json.Replace("\"r1\"", "\"" + new string('a', 33) + "\""))).JsonPath);

        var key = AuditEvents.RoundKey(At, SiloHu, "HU", "HU/j", 1, D(1), ["CH/zurich", "HU/budapest"], [D(2), D(3)]);
        string keyJson = key.ToString();
        Assert.Equal("$.fields.keyParts", Assert.Throws<AuditFormatException>(() => Read(keyJson.Replace("\"" + D(3).Hex + "\"", "").Replace(",]", "]"))).JsonPath);

        var dp = AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, 0.1, 0.5, 1, 1, 0).ToString();
        Assert.Equal("$.fields.epsilonSpent", Assert.Throws<AuditFormatException>(() => Read(dp.Replace("\"epsilonSpent\":0.1", "\"epsilonSpent\":0.10000000000000001"))).JsonPath);
        Assert.Equal("$.fields.epsilonSpent", Assert.Throws<AuditFormatException>(() => Read(dp.Replace("\"epsilonSpent\":0.1", "\"epsilonSpent\":1e-1"))).JsonPath);
        Assert.Equal("$.fields.epsilonSpent", Assert.Throws<AuditFormatException>(() => Read(dp.Replace("\"epsilonSpent\":0.1", "\"epsilonSpent\":-0.1"))).JsonPath);
        Assert.Equal("$.fields.delta", Assert.Throws<AuditFormatException>(() => Read(dp.Replace("\"delta\":0.5", "\"delta\":1.5"))).JsonPath);

        var expired = AuditEvents.AgreementExpired(At, Operator, "CH", "a", D(1), At).ToString();
        Assert.Equal("$.fields.validUntil", Assert.Throws<AuditFormatException>(() => Read(expired.Replace("\"validUntil\":\"2025-03-01T09:00:00.250Z\"", "\"validUntil\":\"2025-03-01\""))).JsonPath);
    }

    [Fact]
    public void Input_that_is_not_json_or_too_large_is_refused_at_the_root()
    {
        Assert.Equal("$", Assert.Throws<AuditFormatException>(() => AuditEntryJson.Read([0xff, 0xfe], "x")).JsonPath);
        Assert.Equal("$", Assert.Throws<AuditFormatException>(() => AuditEntryJson.Read("[]"u8, "x")).JsonPath);
        Assert.Equal("$", Assert.Throws<AuditFormatException>(() => AuditEntryJson.Read(""u8, "x")).JsonPath);
        Assert.Equal("$", Assert.Throws<AuditFormatException>(() => AuditEntryJson.Read(new byte[AuditEntryJson.MaxBytes + 1], "x")).JsonPath);
    }

    /// <summary>Exhaustively: every byte of a written entry replaced by each of its 255 other values.</summary>
    [Fact]
    public void Every_changed_byte_fails_to_read_or_reads_as_another_entry()
    {
        var entries = new[]
        {
            AuditEvents.RoundKey(At, SiloHu, "HU", "HU/j", 4, D(16), ["CH/zurich", "HU/budapest"], [D(17), D(18)]),
            AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "cohort-2024", "HU/j", 4, 1.5, 1e-7, 1.1, 0.01, 500, epsilonCap: 8),
            AuditEvents.PolicyDecided(At, SiloHu, "HU", DecisionSubject.RoundAttempt, "HU/j", DecisionEffect.Deny, D(1), D(2),
                ["no lawful basis — Art. 46"], ["gdpr-art46"], round: 3, attempt: 1),
            AuditEvents.AgreementExpired(At, Operator, "CH", "a", D(1), At),
        };
        int read = 0, refused = 0;
        foreach (var entry in entries)
        {
            byte[] bytes = AuditEntryJson.Write(entry);
            for (int i = 0; i < bytes.Length; i++)
            {
                byte original = bytes[i];
                for (int b = 0; b < 256; b++)
                {
                    if (b == original)
                        continue;
                    bytes[i] = (byte)b;
                    try
                    {
                        var other = AuditEntryJson.Read(bytes, "changed");
                        Assert.NotEqual(entry, other);
                        Assert.Equal(bytes, AuditEntryJson.Write(other));
                        read++;
                    }
                    catch (AuditFormatException)
                    {
                        refused++;
                    }
                }
                bytes[i] = original;
            }
        }
        Assert.True(refused > 0 && read > 0, $"{read} read as other entries, {refused} refused");
    }
}
