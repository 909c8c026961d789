using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using FedCore.Audit.Entries;
using FedCore.Governance.Agreements;
using static FedCore.Tests.Audit.Entries.AuditSamples;

namespace FedCore.Tests.Audit.Entries;

/// <summary>The schema table, the value types and the actors: what they refuse, and that no entry can carry free bytes.</summary>
public class AuditSchemaTests
{
    private static KeyValuePair<string, AuditValue> F(string name, AuditValue value) => KeyValuePair.Create(name, value);

    [Fact]
    public void The_table_has_one_row_per_kind_with_distinct_dotted_wire_names()
    {
        Assert.Equal(Enum.GetValues<AuditEventKind>(), AuditSchema.All.Select(k => k.Kind));
        Assert.Equal(AuditSchema.All.Length, AuditSchema.All.Select(k => k.WireName).Distinct().Count());
        foreach (var schema in AuditSchema.All)
        {
            Assert.Matches("^[a-z]+\\.[a-z-]+$", schema.WireName);
            Assert.True(AuditSchema.TryParseWireName(schema.WireName, out var kind) && kind == schema.Kind);
            Assert.NotEmpty(schema.Actors);
            Assert.Equal(schema.Fields.Length, schema.Fields.Select(f => f.Name).Distinct().Count());
            Assert.All(schema.Fields, f => Assert.True(f.SameLengthAs is null || schema.ByName[f.SameLengthAs].IsList));
        }
        Assert.Equal("job.started", AuditSchema.WireName(AuditEventKind.JobStarted));
        Assert.False(AuditSchema.TryParseWireName("Job.Started", out _));
    }

    [Fact]
    public void A_31_byte_digest_is_refused_and_so_is_any_length_but_32()
    {
        Assert.Throws<ArgumentException>(() => AuditDigest.FromSha256(new byte[31]));
        for (int n = 0; n <= 100; n++)
            if (n != 32)
                Assert.Throws<ArgumentException>(() => AuditDigest.FromSha256(new byte[n]));
        Assert.Equal(new byte[32], AuditDigest.FromSha256(new byte[32]).Bytes.ToArray());
        Assert.Throws<ArgumentException>(() => AuditDigest.Parse(new string('a', 62)));
        Assert.Throws<ArgumentException>(() => AuditDigest.Parse(new string('A', 64)));
        var e = Assert.Throws<AuditEntryException>(() => AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU",
            [F("setHash", AuditValue.Identifier("abc")), F("files", AuditValue.Integer(1))]));
        Assert.Equal(("policy.loaded", "setHash"), (AuditSchema.WireName(e.Kind), e.Field));
        Assert.StartsWith("policy.loaded: setHash: ", e.Message);
    }

    [Fact]
    public void A_text_with_a_newline_or_another_control_or_format_character_is_refused_naming_kind_and_field()
    {
        var e = Assert.Throws<AuditEntryException>(() =>
            AuditEvents.ParticipantDropped(At, SiloHu, "HU", "HU/j", 1, "CH/zurich", "line one\nline two"));
        Assert.Equal(AuditEventKind.ParticipantDropped, e.Kind);
        Assert.Equal("reason", e.Field);
        Assert.StartsWith("participant.dropped: reason: ", e.Message);
        foreach (string bad in new[] { "a\rb", "a\tb", "a\u0000b", "a\u2028b", "a\u202Eb", "a\u200Bb", "a\uE000b", "a\uD800b", " a", "a ", "", new string('x', 1001) })
            Assert.Throws<ArgumentException>(() => AuditValue.Text(bad));
        Assert.Equal("Zürich — ε ≤ 8, 東京 😀", AuditValue.Text("Zürich — ε ≤ 8, 東京 😀").AsString);
        var list = Assert.Throws<AuditEntryException>(() => AuditEvents.PolicyDecided(At, SiloHu, "HU", DecisionSubject.Job, "HU/j",
            DecisionEffect.Deny, D(1), D(2), ["fine", "not\nfine"], []));
        Assert.Equal("reasons[1]", list.Field);
    }

    [Fact]
    public void An_unknown_field_a_missing_one_a_repeated_one_or_a_wrong_type_is_refused()
    {
        var ok = new[] { F("setHash", AuditValue.Digest(D(1))), F("files", AuditValue.Integer(3)) };
        Assert.Equal(2, AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", ok).Fields.Count);
        Assert.Equal("rows", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", [.. ok, F("rows", AuditValue.Text("Alice, 1970-01-01, HbA1c 7.1"))])).Field);
        Assert.Equal("files", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", [ok[0]])).Field);
        Assert.Equal("files", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", [.. ok, ok[1]])).Field);
        Assert.Equal("files", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", [ok[0], F("files", AuditValue.Number(3))])).Field);
        Assert.Equal("files", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.PolicySetLoaded, At, SiloHu, "HU", [ok[0], F("files", AuditValue.Integer(-1))])).Field);
        Assert.Equal("kind", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create((AuditEventKind)999, At, SiloHu, "HU", ok)).Field);
        // Required lists given as null are missing; paired lists must pair.
        Assert.Equal("participants", Assert.Throws<AuditEntryException>(() =>
            AuditEvents.RoundStarted(At, SiloHu, "HU", "HU/j", 1, null!)).Field);
        Assert.Equal("keyParts", Assert.Throws<AuditEntryException>(() =>
            AuditEvents.RoundKey(At, SiloHu, "HU", "HU/j", 1, D(1), ["CH/zurich", "HU/budapest"], [D(2)])).Field);
        Assert.Equal("participants[1]", Assert.Throws<AuditEntryException>(() =>
            AuditEvents.JobStarted(At, SiloHu, "HU", "HU/j", "a", D(1), ["CH/zurich", "zurich"], ProtectionScheme.Ckks)).Field);
        Assert.Equal("delta", Assert.Throws<AuditEntryException>(() =>
            AuditEvents.PrivacyReserved(At, Ch, "CH", "CH/zurich", "d", "HU/j", 1, 1, 1.5, 1, 1, 0)).Field);
        Assert.Equal("round", Assert.Throws<AuditEntryException>(() =>
            AuditEvents.ModelVersion(At, SiloHu, "HU", "HU/j", 0, 1, D(1))).Field);
    }

    [Fact]
    public void Actors_country_and_time_are_checked_against_the_kind()
    {
        Assert.Equal("actor", Assert.Throws<AuditEntryException>(() => AuditEvents.PolicySetLoaded(At, Hu, "HU", D(1), 1)).Field);
        Assert.Equal("actor", Assert.Throws<AuditEntryException>(() => AuditEvents.SignedIn(At, SiloHu, "HU", "oidc")).Field);
        Assert.Equal("actor", Assert.Throws<AuditEntryException>(() => AuditEvents.MembershipIssued(At, Hu, "HU", 1, D(1), 1)).Field);
        Assert.Equal("country", Assert.Throws<AuditEntryException>(() => AuditEvents.PolicySetLoaded(At, SiloHu, "CH", D(1), 1)).Field);
        Assert.Equal("country", Assert.Throws<AuditEntryException>(() => AuditEvents.SignedIn(At, Alice, "Hungary", "oidc")).Field);
        Assert.Equal("time", Assert.Throws<AuditEntryException>(() =>
            AuditEntry.Create(AuditEventKind.SignedIn, At.AddTicks(1), Alice, "HU", [F("scheme", AuditValue.Identifier("oidc"))])).Field);
        Assert.Equal("time", Assert.Throws<AuditEntryException>(() => AuditEvents.SignedIn(DateTimeOffset.UnixEpoch.AddDays(-1), Alice, "HU", "oidc")).Field);
        // The factories truncate to the millisecond and take the time to UTC.
        var local = AuditEvents.SignedIn(At.ToOffset(TimeSpan.FromHours(2)).AddTicks(9_999), Alice, "HU", "oidc");
        Assert.Equal(At, local.Time);
        Assert.Equal(TimeSpan.Zero, local.Time.Offset);
    }

    [Theory]
    [InlineData("federation", AuditActorKind.Federation, null)]
    [InlineData("silo/HU", AuditActorKind.Silo, "HU")]
    [InlineData("HU/budapest", AuditActorKind.Organisation, "HU")]
    [InlineData("user/auth0|5f2b8c9d", AuditActorKind.User, null)]
    [InlineData("user/alice@example.org", AuditActorKind.User, null)]
    public void Actors_have_four_written_forms(string name, AuditActorKind kind, string? country)
    {
        var actor = AuditActor.Parse(name);
        Assert.Equal((kind, name, country), (actor.Kind, actor.Name, actor.Country));
    }

    [Theory]
    [InlineData("Federation")]
    [InlineData("silo/H")]
    [InlineData("silo/hu")]
    [InlineData("hu/budapest")]
    [InlineData("HU/")]
    [InlineData("user/")]
    [InlineData("user/alice smith")]
    [InlineData("user/0123456789abcdef0123456789abcdef0")]
    [InlineData("")]
    [InlineData("HU/bu\ndapest")]
    public void Other_actors_are_refused(string name) => Assert.False(AuditActor.TryParse(name, out _, out _));

    [Fact]
    public void Identifiers_and_words_keep_to_their_characters_and_lengths()
    {
        foreach (string ok in new[] { "HU/diabetes-2025", "a", "/api/jobs/HU/x", "c0a8f1e2-3b4c-4d5e-8f90-a1b2c3d4e5f6", new string('a', 32) })
            Assert.Equal(ok, AuditValue.Identifier(ok).AsString);
        foreach (string bad in new[] { "", "a b", "a\nb", "ä", "a%2F", new string('a', 33), string.Join("-", Enumerable.Repeat("abcdefgh", 15)) })
            Assert.Throws<ArgumentException>(() => AuditValue.Identifier(bad));
        Assert.Throws<ArgumentException>(() => AuditValue.Organisation("budapest"));
        Assert.Throws<ArgumentException>(() => AuditValue.Word("Allow"));
        Assert.Throws<ArgumentException>(() => AuditValue.Word("-allow"));
        Assert.Throws<ArgumentException>(() => AuditValue.Country("HUN"));
    }

    // ---- No free bytes ------------------------------------------------------------------------------------------

    private static readonly Type[] ByteCarriers =
    [
        typeof(byte[]), typeof(ImmutableArray<byte>), typeof(ReadOnlyMemory<byte>), typeof(Memory<byte>), typeof(Stream),
        typeof(ArraySegment<byte>), typeof(IEnumerable<byte>), typeof(IReadOnlyList<byte>), typeof(object), typeof(char[]),
        typeof(ReadOnlyMemory<char>), typeof(StringBuilder),
    ];

    private static bool CarriesBytes(Type type)
    {
        var t = type.IsByRef ? type.GetElementType()! : type;
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (ByteCarriers.Contains(t) || (t.IsByRefLike && t.Name.Contains("Span")))
            return true;
        return t.IsGenericType && t.GetGenericArguments().Any(CarriesBytes);
    }

    [Fact]
    public void No_public_way_into_an_entry_takes_bytes_but_a_digest_of_exactly_32()
    {
        var types = new[] { typeof(AuditEvents), typeof(AuditEntry), typeof(AuditValue), typeof(AuditActor), typeof(AuditEntryJson), typeof(AuditDigest) };
        var offenders = types
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName && m.Name is not ("Equals" or "GetHashCode" or "ToString" or "Deconstruct"))
            .Where(m => m.GetParameters().Any(p => CarriesBytes(p.ParameterType)))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .Distinct()
            .Order()
            .ToList();
        // The reader takes the entry's bytes (and checks all of them); a digest takes exactly 32, or hashes.
        // (VerifySignature takes a public key to check a signature with; it makes no entry.)
        Assert.Equal(["AuditDigest.FromSha256", "AuditDigest.Hash", "AuditEntry.VerifySignature", "AuditEntryJson.Read"], offenders);
        // Every factory's parameters are typed: strings under the identifier/text rules, numbers, enums, times, digests.
        var allowed = new[] { typeof(DateTimeOffset), typeof(AuditActor), typeof(string), typeof(long), typeof(int), typeof(int?), typeof(double),
            typeof(double?), typeof(bool), typeof(AuditDigest), typeof(IEnumerable<string>), typeof(IEnumerable<AuditDigest>), typeof(IEnumerable<double>), typeof(DecisionSubject),
            typeof(DecisionEffect), typeof(JobOutcome), typeof(RoundOutcome), typeof(ProtectionScheme), typeof(DateTimeOffset?) };
        var factories = typeof(AuditEvents).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly);
        Assert.Equal(Enum.GetValues<AuditEventKind>().Length, factories.Length);
        Assert.All(factories.SelectMany(m => m.GetParameters()), p => Assert.Contains(p.ParameterType, allowed));
        Assert.Equal(Enum.GetNames<AuditEventKind>().Order(), factories.Select(m => m.Name).Order());
        // No field of any kind is a list of digests except the round key's parts, one per participant.
        Assert.Equal(["round.key.keyParts"], AuditSchema.All.SelectMany(k => k.Fields.Where(f => f.IsList && f.Type == AuditValueType.Digest)
            .Select(f => $"{k.WireName}.{f.Name}")));
    }

    [Fact]
    public void Bytes_smuggled_as_text_or_identifiers_are_refused()
    {
        var random = new Random(20250301);
        for (int trial = 0; trial < 2_000; trial++)
        {
            var secret = new byte[random.Next(17, 300)];
            random.NextBytes(secret);
            string latin1 = Encoding.Latin1.GetString(secret);     // raw bytes as characters
            string hex = Convert.ToHexString(secret);              // a key or a record as hex
            string hexLower = Convert.ToHexStringLower(secret);
            foreach (string smuggled in new[] { latin1, hex, hexLower })
            {
                Assert.Throws<ArgumentException>(() => AuditValue.Identifier(smuggled));
                Assert.Throws<ArgumentException>(() => AuditValue.Text(smuggled));
                Assert.Throws<ArgumentException>(() => AuditValue.Organisation("HU/" + smuggled));
                Assert.Throws<ArgumentException>(() => AuditValue.Word(smuggled));
                Assert.False(AuditActor.TryParse("user/" + smuggled, out _, out _));
            }
            Assert.Throws<AuditEntryException>(() => AuditEvents.ParticipantDropped(At, SiloHu, "HU", "HU/j", 1, "CH/zurich", "key: " + hex));
        }
    }
}
