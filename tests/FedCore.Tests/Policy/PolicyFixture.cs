using System.Text;
using FedCore.Policy.Decisions;
using FedCore.Policy.Packs;
using FedCore.Policy.Plans;
using FedCore.Tests.Data;

namespace FedCore.Tests.Policy;

/// <summary>
/// A plan like the sample federation's (HU, CH and US hospitals, updates to CH, the final model to all three), the
/// repository's policies, and a small GDPR-like pack to test transfer semantics with. The pack is a test of the engine,
/// not legal content.
/// </summary>
internal static class PolicyFixture
{
    public static string RepositoryPolicies => Path.Combine(DataTestSupport.RepositoryRoot(), "policies");

    public const string PlanJson = """
        {
          "at": "2026-03-01T09:00:00Z",
          "jobId": "CH/heart-logistic",
          "purpose": "cardiology research",
          "round": 1,
          "recurring": true,
          "modelClass": "logistic",
          "strategy": "fedavg",
          "minParticipants": 3,
          "participants": [
            { "organisation": "HU/budapest", "country": "HU", "sector": "public", "attestations": ["gdpr-art9-explicit-consent"],
              "datasets": [ { "id": "heart", "categories": ["health"], "rows": 294, "privacyUnit": "person", "epsilonCap": 8, "epsilonSpent": 1 } ] },
            { "organisation": "CH/zurich", "country": "CH", "sector": "public",
              "datasets": [ { "id": "heart", "categories": ["health"], "rows": 123, "epsilonCap": 8, "epsilonSpent": 0 } ] },
            { "organisation": "US/cleveland", "country": "US", "sector": "non-profit", "certifications": ["eu-us-dpf"],
              "datasets": [ { "id": "heart", "categories": ["health"], "rows": 303, "epsilonCap": 8, "epsilonSpent": 0 } ] }
          ],
          "agreement": {
            "id": "fed-heart-disease-2026", "minParticipants": 3, "epsilonCap": 4, "delta": 0.00001,
            "updateDestinations": ["CH"], "finalModelDestinations": ["CH", "HU", "US"],
            "transferMechanisms": [ { "from": "HU", "to": "US", "mechanism": "eu-scc-2021", "transferImpactAssessment": true } ]
          },
          "protection": { "scheme": "ckks" },
          "dp": { "enabled": true, "epsilon": 2, "delta": 0.00001, "noiseMultiplier": 1.1, "clippingNorm": 1 },
          "updateDestinations": [ { "country": "CH", "organisation": "CH/zurich", "sector": "public" } ],
          "finalModelDestinations": ["CH", "HU", "US"]
        }
        """;

    public static PolicyPlan Plan() => PolicyPlanJson.Parse(Encoding.UTF8.GetBytes(PlanJson), "plan.json");

    public const string Settings = """
        updatesArePersonalData: true
        finalModelIsPersonalData: true
        """;

    /// <summary>Transfers out of the EEA of personal data need adequacy, the DPF for certified US recipients, or SCCs with an assessment.</summary>
    public const string GdprLikePack = """
        pack: gdpr-test
        title: GDPR chapter V, as a test of the engine
        jurisdiction: EU/EEA
        lists:
          eea: [AT, BE, DE, FR, HU, IT, NO]
          adequate: [CH, JP, GB]
          special: [health, genetic, biometric]
        governs: transfer.from in lists.eea and transfer.to not in lists.eea and transfer.personalData
        rules:
          - id: test-adequacy
            title: Adequacy decision
            source: { document: GDPR, article: Art. 45 }
            effective: 2018-05-25
            over: transfer
            effect: permit
            when: transfer.to in lists.adequate
            reason: The Commission has found the destination adequate.
          - id: test-dpf
            title: EU-US Data Privacy Framework
            source: { document: GDPR, article: Art. 45; Decision 2023/1795 }
            effective: 2023-07-10
            over: transfer
            effect: permit
            when: transfer.to == "US" and transfer.recipient.certifications contains "eu-us-dpf"
            reason: The recipient is certified under the DPF.
          - id: test-scc
            title: Standard contractual clauses with an assessment
            source: { document: GDPR, article: Art. 46(2)(c) }
            effective: 2021-06-27
            over: transfer
            effect: permit
            when: transfer.assessedMechanisms contains "eu-scc-2021"
            reason: SCCs are in place and a transfer impact assessment was made.
          - id: test-art9
            title: Special categories need explicit consent
            source: { document: GDPR, article: Art. 9(2)(a) }
            effective: 2018-05-25
            over: transfer
            effect: deny
            when: |
              any(c in transfer.categories, c in lists.special)
                and not (transfer.attestations contains "gdpr-art9-explicit-consent")
            reason: Special-category data leave only with explicit consent.
        """;

    public static PolicyFile File(string path, string content) => new(path, Encoding.UTF8.GetBytes(content));

    /// <summary>A set of the settings and the given packs, in memory.</summary>
    public static PolicySet Set(params (string Path, string Yaml)[] packs) =>
        PolicySetLoader.Load([File("settings.yaml", Settings), .. packs.Select(p => File(p.Path, p.Yaml))]);

    /// <summary>
    /// The repository's settings and federation pack — the legal packs are left out, so these engine tests do not move
    /// when the law's packs change (PolicyScenarioTests evaluates the whole folder) — and the GDPR-like test pack.
    /// </summary>
    public static List<PolicyFile> RepositoryEngineFiles() =>
        [.. new[] { "settings.yaml", "federation.yaml" }.Select(f => File(f, System.IO.File.ReadAllText(Path.Combine(RepositoryPolicies, f))))];

    /// <summary>The repository's settings and federation pack, and the GDPR-like test pack.</summary>
    public static PolicySet RepositoryAndGdpr()
    {
        var files = RepositoryEngineFiles();
        files.Add(File("gdpr-test.yaml", GdprLikePack));
        return PolicySetLoader.Load(files);
    }

    /// <summary>A pack with one plan-level rule, for language and in-force tests.</summary>
    public static string PlanRulePack(string when, string effect = "require", string effective = "2026-01-01", string? expires = null) => $"""
        pack: one
        title: One rule
        jurisdiction: test
        lists:
          eea: [DE, HU]
        rules:
          - id: only
            title: The rule
            source: {"{"} document: Test, article: "1" {"}"}
            effective: {effective}
            {(expires is null ? "" : $"expires: {expires}")}
            over: plan
            effect: {effect}
            when: {when}
            reason: Because.
        """;

    public static PolicyDecision Decide(PolicySet set, PolicyPlan? plan = null) => PolicyEngine.Evaluate(set, plan ?? Plan());
}
