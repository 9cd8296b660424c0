import Foundation
import TinyLM

/// The saved state of an interrupted fine-tuning study, so that a killed run continues where it
/// stopped and reaches the same numbers as an uninterrupted one.
///
/// One folder a run, `<cache>/fine-tuning/<hash of the key>/`, where the key is the JSON of
/// everything that determines the results (the caller's). It holds
/// - `progress.json`: the key, the curves of the methods finished, and for the method in
///   progress its partial curve, its step and the name of its policy file;
/// - `policy-<method index>-<step>.safetensors`: that method's policy with its AdamW moments and
///   step (`FineTuner.checkpoint`).
///
/// A save writes the new policy file, then `progress.json`, each atomically (temporary file, then
/// rename), then deletes every other file of the folder: whenever the process dies,
/// `progress.json` names a complete policy file of its own step. A state that cannot be read or
/// does not fit is reported in one line and ignored (`load`); the run then starts afresh, or
/// starts again the method whose policy file is unusable.
public struct FineTuneStateStore {
    /// `<cache>/fine-tuning`, holding one folder a key.
    public let root: URL
    public let folder: URL
    public let key: String
    /// The methods in the order they run, and the steps of each.
    public let methods: [Method]
    public let steps: Int

    static let progressName = "progress.json"

    public init(cache: URL, key: String, methods: [Method], steps: Int) {
        root = cache.appendingPathComponent("fine-tuning", isDirectory: true)
        folder = root.appendingPathComponent(StableHash.hex(key), isDirectory: true)
        self.key = key
        self.methods = methods
        self.steps = steps
    }

    /// What `progress.json` holds.
    struct Record: Codable {
        var format = 2
        var key: String
        var finished: [TrainingCurve]
        var current: Current?

        struct Current: Codable {
            var curve: TrainingCurve
            var step: Int
            var policyFile: String
        }
    }

    /// A state read back: the curves of the methods finished and, if a method was in progress,
    /// its partial curve and the checkpoint of its policy at `step`.
    public struct Restored {
        public let finished: [TrainingCurve]
        public let current: (curve: TrainingCurve, step: Int, checkpoint: Checkpoint)?

        /// Where the run stands, in words.
        public func position(of store: FineTuneStateStore) -> String {
            let done = "\(finished.count) of \(store.methods.count) methods finished"
            guard let c = current else { return done }
            return done + ", \(c.curve.method) at step \(c.step) of \(store.steps)"
        }
    }

    /// Saves the curves of the methods finished and, for the method in progress, its partial
    /// curve and its tuner (policy, optimiser, step).
    public func save(finished: [TrainingCurve], current: (curve: TrainingCurve, tuner: FineTuner)?) throws(TinyLMError) {
        var record = Record(key: key, finished: finished)
        if let (curve, tuner) = current {
            let name = "policy-\(finished.count)-\(tuner.step).safetensors"
            try tuner.checkpoint(metadata: ["state_key": StableHash.hex(key)]).save(to: folder.appendingPathComponent(name))
            record.current = .init(curve: curve, step: tuner.step, policyFile: name)
        }
        let data: Data
        do { data = try Self.encoder.encode(record) } catch { throw .checkpoint("cannot encode the fine-tuning state: \(error)") }
        try writeAtomically(data, to: folder.appendingPathComponent(Self.progressName))
        let keep: Set<String> = [Self.progressName, record.current?.policyFile ?? Self.progressName]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !keep.contains(name) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// The saved state, or nil when there is none or it is unusable (said through `warn`, one
    /// line). A usable record whose policy file is not is returned without its method in progress.
    public func load(warn: (String) -> Void) -> Restored? {
        let url = folder.appendingPathComponent(Self.progressName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let record: Record
        do {
            let data = try Data(contentsOf: url)
            record = try Self.decoder.decode(Record.self, from: data)
        } catch {
            warn("ignoring the fine-tuning state in \(folder.path): \(Self.progressName) cannot be read (truncated or corrupt)")
            return nil
        }
        if let why = inconsistency(of: record) {
            warn("ignoring the fine-tuning state in \(folder.path): \(why)")
            return nil
        }
        guard let current = record.current else { return Restored(finished: record.finished, current: nil) }
        do {
            let checkpoint = try Checkpoint.load(folder.appendingPathComponent(current.policyFile))
            let m = checkpoint.extraMetadata
            guard m["state_key"] == StableHash.hex(key), m["method"] == current.curve.method.id, m["step"] == "\(current.step)" else {
                throw TinyLMError.checkpoint("it belongs to another run, method or step")
            }
            return Restored(finished: record.finished, current: (current.curve, current.step, checkpoint))
        } catch {
            warn("ignoring the saved policy of \(current.curve.method) at step \(current.step) in \(folder.path) (\(error)); that method starts again")
            return Restored(finished: record.finished, current: nil)
        }
    }

    /// Why the record cannot be this run's state, or nil when it can.
    func inconsistency(of record: Record) -> String? {
        guard record.format == 2 else { return "it has format \(record.format), not 2" }
        guard record.key == key else { return "it was saved for other settings" }
        guard record.finished.count <= methods.count else { return "it records \(record.finished.count) finished methods of \(methods.count)" }
        for (curve, method) in zip(record.finished, methods) {
            if let why = curve.inconsistency(method: method, through: steps, limit: steps) { return why }
            guard curve.lastStep == steps else { return "\(method) is recorded as finished before step \(steps)" }
        }
        if let current = record.current {
            guard record.finished.count < methods.count else { return "it has a method in progress after the last one" }
            guard (0..<steps).contains(current.step) else { return "its method in progress is at step \(current.step), outside 0..<\(steps)" }
            if let why = current.curve.inconsistency(method: methods[record.finished.count], through: current.step, limit: steps) { return why }
        }
        return nil
    }

    /// Deletes this run's folder, then `<cache>/fine-tuning` and `<cache>` if that left them empty.
    public func discard() {
        let fm = FileManager.default
        try? fm.removeItem(at: folder)
        for dir in [root, root.deletingLastPathComponent()] {
            guard let contents = try? fm.contentsOfDirectory(atPath: dir.path), contents.isEmpty else { return }
            try? fm.removeItem(at: dir)
        }
    }

    // Shortest round-trip decimal numbers: every Double reads back bit for bit.
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }
}
