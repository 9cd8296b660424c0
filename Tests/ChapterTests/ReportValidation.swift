import Foundation
import Testing

/// Validates a report file against `Docs/report-schema.md` without our own decoder: keys, types
/// and the consistency of counts and verdicts, read with JSONSerialization.
func validateReportJSON(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        Issue.record("report is not a JSON object", sourceLocation: sourceLocation)
        return
    }
    func isNumber(_ v: Any?) -> Bool {
        if let s = v as? String { return ["Infinity", "-Infinity", "NaN"].contains(s) }
        return v is NSNumber && !(v is Bool && false)
    }
    #expect(json["schema"] as? String == "klbayes-report/2", sourceLocation: sourceLocation)
    for key in ["chapter", "title", "summary"] { #expect(json[key] is String, "\(key)", sourceLocation: sourceLocation) }
    for key in ["number", "passed", "failed"] { #expect(json[key] is NSNumber, "\(key)", sourceLocation: sourceLocation) }
    #expect(json["values"] is [String: Any], sourceLocation: sourceLocation)
    #expect(json["errata"] is [String], sourceLocation: sourceLocation)
    #expect(json["derivations"] is [[String: Any]], sourceLocation: sourceLocation)
    for (k, f) in (json["figures"] as? [[String: Any]] ?? []).enumerated() {
        #expect(f["number"] as? Int == k + 1 && f["caption"] is String && ["line", "bar"].contains(f["kind"] as? String ?? ""),
                sourceLocation: sourceLocation)
        for s in f["series"] as? [[String: Any]] ?? [] {
            #expect(s["name"] is String && (s["x"] as? [Any])?.count == (s["y"] as? [Any])?.count, sourceLocation: sourceLocation)
        }
    }
    for (k, t) in (json["tables"] as? [[String: Any]] ?? []).enumerated() {
        let width = (t["headers"] as? [String])?.count
        #expect(t["number"] as? Int == k + 1 && width != nil, sourceLocation: sourceLocation)
        #expect(t["rows"] is [[String]], sourceLocation: sourceLocation)
    }
    #expect(json["figures"] is [[String: Any]] && json["tables"] is [[String: Any]] && json["references"] is [[String: Any]],
            sourceLocation: sourceLocation)
    guard let checks = json["checks"] as? [[String: Any]] else {
        Issue.record("checks is not an array of objects", sourceLocation: sourceLocation)
        return
    }
    var passed = 0
    for c in checks {
        for key in ["id", "claim", "a_label", "b_label", "tolerance_reason"] { #expect(c[key] is String, "\(key)", sourceLocation: sourceLocation) }
        for key in ["a", "b", "difference", "tolerance"] { #expect(isNumber(c[key]), "\(key)", sourceLocation: sourceLocation) }
        #expect(["=", "<=", ">=", ">+"].contains(c["relation"] as? String ?? ""), sourceLocation: sourceLocation)
        if let t = c["tolerance"] as? Double { #expect(t >= 0, "a negative tolerance", sourceLocation: sourceLocation) }
        #expect(!(c["tolerance_reason"] as? String ?? "").isEmpty, "every tolerance states its reason", sourceLocation: sourceLocation)
        if c["passed"] as? Bool == true { passed += 1 }
    }
    #expect(json["passed"] as? Int == passed, sourceLocation: sourceLocation)
    #expect(json["failed"] as? Int == checks.count - passed, sourceLocation: sourceLocation)
    guard let p = json["provenance"] as? [String: Any] else {
        Issue.record("provenance missing", sourceLocation: sourceLocation)
        return
    }
    for key in ["commit", "command_line", "swift_version", "gsl_version", "openblas", "date"] { #expect(p[key] is String, "\(key)", sourceLocation: sourceLocation) }
    for key in ["seed", "cores", "elapsed_seconds"] { #expect(p[key] is NSNumber, "\(key)", sourceLocation: sourceLocation) }
    #expect(p["dirty"] is Bool, sourceLocation: sourceLocation)
    #expect(p["parameters"] is [String: String], sourceLocation: sourceLocation)
}
