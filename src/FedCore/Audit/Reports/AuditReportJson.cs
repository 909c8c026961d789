using System.Text;
using System.Text.Json.Nodes;
using FedCore.Governance.Canonical;

namespace FedCore.Audit.Reports;

/// <summary>
/// The JSON form of a report: one canonical document (keys sorted, laid out with two spaces, ending in a newline) that
/// holds the report's sections, every cited entry's canonical bytes (as a string) with its index and inclusion proof, and
/// the signed tree head as <see cref="SignedTreeHead.Write"/> gives it (as a string):
/// <code>
/// {
///   "entries": [ { "bytes": "{\"actor\":…}", "index": 3, "proof": [ "&lt;64 hex&gt;", … ] }, … ],
///   "format": "federation/audit/report/v1",
///   "scope": { "job": "HU/diabetes", "kind": "job" },
///   "sections": [ { "act": "…", "id": "scope", "lines": [ { "cites": [ 3 ], "text": "…" } ],
///                   "tables": [ { "columns": [ … ], "rows": [ { "cells": [ … ], "cites": [ 3, 9 ] } ], "title": "…" } ], "title": "…" }, … ],
///   "signedTreeHead": "{\n  \"cosignatures\": …}\n",
///   "title": "Audit report: job HU/diabetes"
/// }
/// </code>
/// <see cref="AuditReportVerifier"/> checks one offline.
/// </summary>
public static class AuditReportJson
{
    public const string Format = "federation/audit/report/v1";

    /// <summary>The report's one written form (UTF-8).</summary>
    public static byte[] Write(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return CanonicalJson.WriteIndented(new JsonObject
        {
            ["format"] = Format,
            ["title"] = report.Title,
            ["scope"] = report.Scope.ToJson(),
            ["sections"] = SectionsJson(report),
            ["entries"] = new JsonArray([.. report.Entries.Select(e => (JsonNode)new JsonObject
            {
                ["index"] = e.Index,
                ["bytes"] = Encoding.UTF8.GetString(e.Bytes.AsSpan()),
                ["proof"] = new JsonArray([.. e.Proof.Select(h => (JsonNode)JsonValue.Create(Convert.ToHexStringLower(h.AsSpan()))!)]),
            })]),
            ["signedTreeHead"] = Encoding.UTF8.GetString(report.Head.Write()),
        });
    }

    internal static JsonArray SectionsJson(AuditReport report) => new([.. report.Sections.Select(s => (JsonNode)new JsonObject
    {
        ["id"] = s.Id,
        ["title"] = s.Title,
        ["act"] = s.Act,
        ["lines"] = new JsonArray([.. s.Lines.Select(l => (JsonNode)new JsonObject { ["text"] = l.Text, ["cites"] = Cites(l.Cites) })]),
        ["tables"] = new JsonArray([.. s.Tables.Select(t => (JsonNode)new JsonObject
        {
            ["title"] = t.Title,
            ["columns"] = new JsonArray([.. t.Columns.Select(c => (JsonNode)JsonValue.Create(c)!)]),
            ["rows"] = new JsonArray([.. t.Rows.Select(r => (JsonNode)new JsonObject
            {
                ["cells"] = new JsonArray([.. r.Cells.Select(c => (JsonNode)JsonValue.Create(c)!)]),
                ["cites"] = Cites(r.Cites),
            })]),
        })]),
    })]);

    private static JsonArray Cites(IEnumerable<long> cites) => new([.. cites.Select(c => (JsonNode)JsonValue.Create(c))]);
}
