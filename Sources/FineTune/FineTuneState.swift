import Foundation
import TinyLM

/// Chapter 10's fine-tuning methods: `<cache>/fine-tuning`, one curve a `Method`.
public typealias FineTuneStateStore = TrainingStateStore<TrainingCurve>

extension TrainingStateStore where Curve == TrainingCurve {
    public init(cache: URL, key: String, methods: [Method], steps: Int) {
        self.init(cache: cache, names: Names(folder: "fine-tuning", state: "fine-tuning", run: "method", runs: "methods"),
                  key: key, runs: methods.map(\.id), steps: steps)
    }
}

extension TrainingCurve: SavedCurve {
    public var runID: String { method.id }
    public var runName: String { method.description }
    public func inconsistency(run id: String, through last: Int, limit: Int) -> String? {
        guard method.id == id else { return "it records \(method.id) where \(id) was expected" }
        return inconsistency(through: last, limit: limit)
    }
}

/// A trainer whose whole state between steps is its policy, its optimiser and its step, so that
/// a checkpoint of it (`checkpoint(metadata:)`) is all a saved state needs to continue it.
public protocol ResumableTrainer: AnyObject {
    var step: Int { get }
    func checkpoint(metadata: [String: String]) -> Checkpoint
}

extension FineTuner: ResumableTrainer {}
extension PolicyTrainer: ResumableTrainer {}

/// What a saved state records of one run along training (a method's, a trainer's).
public protocol SavedCurve: Codable {
    /// The run's stable id (`Method.id`, a trainer's id): names its policy file's metadata.
    var runID: String { get }
    /// The run's label in messages.
    var runName: String { get }
    /// The step of the last evaluation, if any.
    var lastStep: Int? { get }
    /// Why the record cannot be that of run `id` up to step `last` (of at most `limit` steps),
    /// or nil when it can.
    func inconsistency(run id: String, through last: Int, limit: Int) -> String?
}

extension SavedCurve {
    public var runName: String { runID }
}

/// The saved state of an interrupted training study (chapter 10's methods, chapter 11's trainers
/// at scale), so that a killed run continues where it stopped and reaches the same numbers as an
/// uninterrupted one.
///
/// One folder a run, `<cache>/<names.folder>/<hash of the key>/`, where the key is the JSON of
/// everything that determines the results (the caller's). It holds
/// - `progress.json`: the key, the curves of the runs finished, and for the run in progress its
///   partial curve, its step and the name of its policy file;
/// - `policy-<run index>-<step>.safetensors`: that run's policy with its AdamW moments and step
///   (`ResumableTrainer.checkpoint`).
///
/// A save writes the new policy file, then `progress.json`, each atomically (temporary file, then
/// rename), then deletes every other file of the folder: whenever the process dies,
/// `progress.json` names a complete policy file of its own step. A state that cannot be read or
/// does not fit is reported in one line and ignored (`load`); the study then starts afresh, or
/// starts again the run whose policy file is unusable.
public struct TrainingStateStore<Curve: SavedCurve> {
    /// How a kind of state is named: its folder under the cache, and in messages the state and
    /// one run and several ("fine-tuning", "method", "methods").
    public struct Names: Sendable {
        public let folder, state, run, runs: String
        public init(folder: String, state: String, run: String, runs: String) {
            self.folder = folder; self.state = state; self.run = run; self.runs = runs
        }
    }

    /// `<cache>/<names.folder>`, holding one folder a key.
    public let root: URL
    public let folder: URL
    public let key: String
    public let names: Names
    /// The runs' ids in the order they run, and the steps of each.
    public let runs: [String]
    public let steps: Int

    static var progressName: String { "progress.json" }

    public init(cache: URL, names: Names, key: String, runs: [String], steps: Int) {
        root = cache.appendingPathComponent(names.folder, isDirectory: true)
        folder = root.appendingPathComponent(StableHash.hex(key), isDirectory: true)
        self.key = key
        self.names = names
        self.runs = runs
        self.steps = steps
    }

    /// What `progress.json` holds.
    struct Record: Codable {
        var format = 2
        var key: String
        var finished: [Curve]
        var current: Current?

        struct Current: Codable {
            var curve: Curve
            var step: Int
            var policyFile: String
        }
    }

    /// A state read back: the curves of the runs finished and, if a run was in progress, its
    /// partial curve and the checkpoint of its policy at `step`.
    public struct Restored {
        public let finished: [Curve]
        public let current: (curve: Curve, step: Int, checkpoint: Checkpoint)?

        /// Where the study stands, in words.
        public func position(of store: TrainingStateStore) -> String {
            let done = "\(finished.count) of \(store.runs.count) \(store.names.runs) finished"
            guard let c = current else { return done }
            return done + ", \(c.curve.runName) at step \(c.step) of \(store.steps)"
        }
    }

    /// Saves the curves of the runs finished and, for the run in progress, its partial curve and
    /// its trainer (policy, optimiser, step).
    public func save(finished: [Curve], current: (curve: Curve, trainer: any ResumableTrainer)?) throws(TinyLMError) {
        var record = Record(key: key, finished: finished)
        if let (curve, trainer) = current {
            let name = "policy-\(finished.count)-\(trainer.step).safetensors"
            try trainer.checkpoint(metadata: ["state_key": StableHash.hex(key), "run": curve.runID])
                .save(to: folder.appendingPathComponent(name))
            record.current = .init(curve: curve, step: trainer.step, policyFile: name)
        }
        let data: Data
        do { data = try Self.encoder.encode(record) } catch { throw .checkpoint("cannot encode the \(names.state) state: \(error)") }
        try writeAtomically(data, to: folder.appendingPathComponent(Self.progressName))
        let keep: Set<String> = [Self.progressName, record.current?.policyFile ?? Self.progressName]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !keep.contains(name) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// The saved state, or nil when there is none or it is unusable (said through `warn`, one
    /// line). A usable record whose policy file is not is returned without its run in progress.
    public func load(warn: (String) -> Void) -> Restored? {
        let url = folder.appendingPathComponent(Self.progressName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let record: Record
        do {
            let data = try Data(contentsOf: url)
            record = try Self.decoder.decode(Record.self, from: data)
        } catch {
            warn("ignoring the \(names.state) state in \(folder.path): \(Self.progressName) cannot be read (truncated or corrupt)")
            return nil
        }
        if let why = inconsistency(of: record) {
            warn("ignoring the \(names.state) state in \(folder.path): \(why)")
            return nil
        }
        guard let current = record.current else { return Restored(finished: record.finished, current: nil) }
        do {
            let checkpoint = try Checkpoint.load(folder.appendingPathComponent(current.policyFile))
            let m = checkpoint.extraMetadata
            // Policy files saved before the store named the run carry only the tuner's "method".
            guard m["state_key"] == StableHash.hex(key), (m["run"] ?? m["method"]) == current.curve.runID,
                  m["step"] == "\(current.step)" else {
                throw TinyLMError.checkpoint("it belongs to another study, run or step")
            }
            return Restored(finished: record.finished, current: (current.curve, current.step, checkpoint))
        } catch {
            warn("ignoring the saved policy of \(current.curve.runName) at step \(current.step) in \(folder.path) (\(error)); that \(names.run) starts again")
            return Restored(finished: record.finished, current: nil)
        }
    }

    /// Why the record cannot be this run's state, or nil when it can.
    func inconsistency(of record: Record) -> String? {
        guard record.format == 2 else { return "it has format \(record.format), not 2" }
        guard record.key == key else { return "it was saved for other settings" }
        guard record.finished.count <= runs.count else { return "it records \(record.finished.count) finished \(names.runs) of \(runs.count)" }
        for (curve, id) in zip(record.finished, runs) {
            if let why = curve.inconsistency(run: id, through: steps, limit: steps) { return why }
            guard curve.lastStep == steps else { return "\(curve.runName) is recorded as finished before step \(steps)" }
        }
        if let current = record.current {
            guard record.finished.count < runs.count else { return "it has a \(names.run) in progress after the last one" }
            guard (0..<steps).contains(current.step) else { return "its \(names.run) in progress is at step \(current.step), outside 0..<\(steps)" }
            if let why = current.curve.inconsistency(run: runs[record.finished.count], through: current.step, limit: steps) { return why }
        }
        return nil
    }

    /// Deletes this study's folder, then `<cache>/<names.folder>` and `<cache>` if that left them empty.
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

/// Saves a study's state through its store until a save fails: then it says so once (`warn`) and
/// saves no more, and the study continues without a state.
public struct StateSaver<Curve: SavedCurve> {
    public let store: TrainingStateStore<Curve>
    let warn: (String) -> Void
    public private(set) var saving = true

    public init(store: TrainingStateStore<Curve>, warn: @escaping (String) -> Void) {
        self.store = store; self.warn = warn
    }

    public mutating func save(finished: [Curve], current: (curve: Curve, trainer: any ResumableTrainer)?) {
        guard saving else { return }
        do { try store.save(finished: finished, current: current) } catch {
            warn("cannot save the \(store.names.state) state in \(store.folder.path) (\(error)); continuing without it")
            saving = false
        }
    }

    /// How to continue a study stopped on purpose, for its one line.
    public var howToContinue: String {
        saving ? "run again to resume from \(store.folder.path)" : "its state could not be saved"
    }
}
