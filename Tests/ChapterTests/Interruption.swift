import Foundation
import Testing

/// A chapter run stopped on purpose by its hidden `--stop-after-steps` and run again (chapters 10
/// and 11): what both resume tests check of the stopped run, of the state it saved and of the
/// resumed report.
enum Interruption {
    /// The state a stopped run left: its folder, its `progress.json`, and there the run in progress.
    struct Saved {
        let folder: URL
        let progress: [String: Any]
        let current: [String: Any]
        /// The evaluation steps recorded of the run in progress.
        let evaluated: [Double]
    }

    /// Runs `product` with `arguments`, stopped after `stop` steps in all, in `folder`. It must exit
    /// 3 with `stoppedLine` on stderr, write no report, and leave one state folder in
    /// `.cache/<kind>` holding `progress.json` and the policy file of run `finished` (0-based,
    /// after `finished` runs done) at `step`, which `progress.json` names.
    static func stop(_ product: String, slug: String, arguments: [String], stop: Int, stoppedLine: String, kind: String,
                     finished: Int, step: Int, in folder: URL,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> Saved {
        let stopped = try ChapterRunner.run(product, arguments + ["--stop-after-steps", "\(stop)", "--output", folder.path])
        #expect(stopped.status == 3, "exit \(stopped.status): \(stopped.stderr)", sourceLocation: sourceLocation)
        #expect(stopped.stderr.contains(stoppedLine), "stderr: \(stopped.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(slug).json").path), "no report yet",
                sourceLocation: sourceLocation)
        let root = folder.appendingPathComponent(".cache/\(kind)")
        let states = try FileManager.default.contentsOfDirectory(atPath: root.path)
        try #require(states.count == 1, "one state folder: \(states)", sourceLocation: sourceLocation)
        let state = root.appendingPathComponent(states[0])
        let files = try FileManager.default.contentsOfDirectory(atPath: state.path).sorted()
        #expect(files == ["policy-\(finished)-\(step).safetensors", "progress.json"], "\(files)", sourceLocation: sourceLocation)
        let progress = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent("progress.json"))) as? [String: Any],
                                    sourceLocation: sourceLocation)
        let current = try #require(progress["current"] as? [String: Any], sourceLocation: sourceLocation)
        let evaluated = try #require((current["curve"] as? [String: Any])?["steps"] as? [Double], sourceLocation: sourceLocation)
        #expect(current["step"] as? Int == step, sourceLocation: sourceLocation)
        #expect((progress["finished"] as? [Any])?.count == finished, sourceLocation: sourceLocation)
        return Saved(folder: state, progress: progress, current: current, evaluated: evaluated)
    }

    /// Runs `product` again in `folder`, after `stop`: it must pass, say "<resumeLine> <state folder>"
    /// on stderr with no warning, delete the output folder's `.cache`, and write the JSON of the
    /// uninterrupted run, `reference`, but for how each run was invoked (`provenance`,
    /// `reproduction`). Returns the `provenance.parameters` of both, resumed first.
    static func expectResumed(_ product: String, slug: String, arguments: [String], state: URL, resumeLine: String,
                              reference: Data, in folder: URL,
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> (NSDictionary?, NSDictionary?) {
        let resumed = try expectChapterPasses(product, slug: slug, arguments: arguments, in: folder, sourceLocation: sourceLocation)
        #expect(resumed.stderr.contains("\(resumeLine) \(state.path)"), "stderr: \(resumed.stderr)", sourceLocation: sourceLocation)
        #expect(!resumed.stderr.contains("warning"), "stderr: \(resumed.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".cache").path),
                "the state is deleted with the report written", sourceLocation: sourceLocation)
        let a = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(slug).json"))) as? NSDictionary,
                             sourceLocation: sourceLocation)
        let b = try #require(try JSONSerialization.jsonObject(with: reference) as? NSDictionary, sourceLocation: sourceLocation)
        for key in Set(a.allKeys.compactMap { $0 as? String }).union(b.allKeys.compactMap { $0 as? String })
        where key != "provenance" && key != "reproduction" {
            #expect(a[key] as? NSObject == b[key] as? NSObject, "\(key) differs from the uninterrupted run's", sourceLocation: sourceLocation)
        }
        #expect((a["values"] as? NSDictionary)?.count ?? 0 > 0, sourceLocation: sourceLocation)
        let parameters = { (d: NSDictionary) in (d["provenance"] as? NSDictionary)?["parameters"] as? NSDictionary }
        return (parameters(a), parameters(b))
    }
}
