@testable import FineTune
import Foundation
import GSL
import Testing
import TinyLM

/// The saved state of an interrupted fine-tuning run: it reads back bit for bit, a tuner restored
/// from it takes the steps the original would, and a damaged or foreign state is refused.
@Suite("FineTune: the state of an interrupted run")
struct FineTuneStateTests {
    let methods: [Method] = [.reinforce, .klReinforce(beta: 0.5), .dpg]
    let steps = 10
    /// A word the tiny prior writes often, so that rewards differ within a batch and every step moves the policy.
    let preference = TargetWord("a")

    /// A tiny prior over texts of a, b and spaces.
    var prior: Checkpoint {
        let tokenizer = CharTokenizer(texts: ["ab ba", "a b"])
        let config = GPTConfig(vocabSize: tokenizer.count, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8)
        return Checkpoint(model: GPT(config: config, seed: 5), tokenizer: tokenizer)
    }

    func tuner(_ method: Method, _ prior: Checkpoint) -> FineTuner {
        var settings = FineTuneSettings()
        settings.batchSize = 16; settings.steps = steps; settings.learningRate = 1e-2
        return FineTuner(method: method, prior: prior, preference: preference, settings: settings, logConstraintPartition: -1)
    }

    /// A curve measured at the given steps; its forward-KL terms include values that a decimal
    /// writer could round (and non-finite ones).
    func curve(_ tuner: FineTuner, _ prior: Checkpoint, at evaluated: [Int]) -> TrainingCurve {
        var c = TrainingCurve(method: tuner.method)
        for s in evaluated {
            let m = PolicyMeasurement.measure(policy: tuner.policy, prior: prior.model, tokenizer: prior.tokenizer, preference: preference,
                                              beta: 0.5, count: 16, rng: RandomGenerator(seed: UInt64(200 + s)))
            c.append(step: s, m, forwardTerms: [0.1 + 0.2, 0x1p-1040, -0.0, .pi, .infinity, -.infinity, .nan, Double.ulpOfOne, Double(s) / 3])
        }
        return c
    }

    func train(_ tuner: FineTuner, to step: Int) {
        while tuner.step < step { tuner.trainStep(rng: RandomGenerator(seed: UInt64(100 + tuner.step))) }
    }

    /// Every Double of a value (by reflection) as its bit pattern, and every string: equal
    /// fingerprints mean bitwise-equal numbers (NaN included) and equal texts.
    func fingerprint(_ value: Any) -> [String] {
        if let d = value as? Double { return ["\(d.bitPattern)"] }
        if let s = value as? String { return [s] }
        let mirror = Mirror(reflecting: value)
        if mirror.children.isEmpty { return ["\(value)"] }
        return mirror.children.flatMap { [($0.label ?? "")] + fingerprint($0.value) }
    }

    func temporaryCache() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-state-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func store(_ cache: URL, key: String = #"{"test":1}"#) -> FineTuneStateStore {
        FineTuneStateStore(cache: cache, key: key, methods: methods, steps: steps)
    }

    /// A saved state: method 0 finished, method 1 at step 3 (evaluated at 0 only).
    func savedState(in cache: URL) throws -> (finished: TrainingCurve, current: TrainingCurve, tuner: FineTuner, prior: Checkpoint) {
        let prior = self.prior
        let first = tuner(methods[0], prior)
        let firstCurve = curve(first, prior, at: [0])
        train(first, to: steps)
        var finished = firstCurve
        finished.append(step: steps, curve(first, prior, at: [steps]).measurements[0], forwardTerms: [-2.5])
        let second = tuner(methods[1], prior)
        let current = curve(second, prior, at: [0])
        train(second, to: 3)
        try store(cache).save(finished: [finished], current: (current, second))
        return (finished, current, second, prior)
    }

    @Test("a saved state reads back bit for bit, and the restored tuner takes the same next step")
    func roundTrip() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let saved = try savedState(in: cache)
        var warnings: [String] = []
        let restored = try #require(store(cache).load { warnings.append($0) })
        #expect(warnings.isEmpty)
        #expect(restored.finished.count == 1)
        #expect(fingerprint(restored.finished[0]) == fingerprint(saved.finished))
        let current = try #require(restored.current)
        #expect(current.step == 3)
        #expect(fingerprint(current.curve) == fingerprint(saved.current))
        #expect(fingerprint(saved.current).contains("\((-0.0).bitPattern)"), "the fingerprint reaches the numbers")
        #expect(restored.position(of: store(cache)) == "1 of 3 methods finished, \(methods[1]) at step 3 of \(steps)")

        let again = tuner(methods[1], saved.prior)
        try again.resume(from: current.checkpoint)
        #expect(again.step == 3)
        let atThree = saved.tuner.policy.parameters.array
        let restoredExactly = again.policy.parameters.array == atThree
        #expect(restoredExactly)
        // The next step uses the optimiser's moments and step: equal only if they were restored too.
        train(again, to: 4)
        train(saved.tuner, to: 4)
        let sameStep = again.policy.parameters.array == saved.tuner.policy.parameters.array
        let moved = saved.tuner.policy.parameters.array != atThree
        #expect(sameStep)
        #expect(moved, "the step changed the policy, so the comparison says something")

        // A later save replaces the policy file; finishing the method leaves no policy file.
        try store(cache).save(finished: [saved.finished], current: (saved.current, saved.tuner))
        let folder = store(cache).folder
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["policy-1-4.safetensors", "progress.json"])
        try store(cache).save(finished: [saved.finished], current: nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["progress.json"])
        #expect(try #require(store(cache).load { warnings.append($0) }).current == nil)
        #expect(warnings.isEmpty)
    }

    @Test("no saved state: nothing to resume, no warning")
    func absent() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        var warnings: [String] = []
        #expect(store(cache).load { warnings.append($0) } == nil)
        #expect(warnings.isEmpty)
    }

    /// Cuts a file to half its length, as a kill during a non-atomic write would.
    func truncate(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
    }

    @Test("a truncated progress file is refused with one warning: the run starts afresh")
    func truncatedProgress() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try savedState(in: cache)
        try truncate(store(cache).folder.appendingPathComponent("progress.json"))
        var warnings: [String] = []
        #expect(store(cache).load { warnings.append($0) } == nil)
        #expect(warnings.count == 1 && warnings[0].contains("progress.json"), "\(warnings)")
    }

    @Test("a truncated policy file is refused with one warning: only its method starts again")
    func truncatedPolicy() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let saved = try savedState(in: cache)
        try truncate(store(cache).folder.appendingPathComponent("policy-1-3.safetensors"))
        var warnings: [String] = []
        let restored = try #require(store(cache).load { warnings.append($0) })
        #expect(restored.current == nil)
        #expect(fingerprint(restored.finished) == fingerprint([saved.finished]))
        #expect(warnings.count == 1 && warnings[0].contains("starts again"), "\(warnings)")
    }

    @Test("a state saved for other settings or inconsistent with this run is refused")
    func foreignOrInconsistent() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try savedState(in: cache)
        let other = store(cache, key: #"{"test":2}"#)
        try FileManager.default.createDirectory(at: other.folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: store(cache).folder.path) {
            try FileManager.default.copyItem(at: store(cache).folder.appendingPathComponent(name), to: other.folder.appendingPathComponent(name))
        }
        var warnings: [String] = []
        #expect(other.load { warnings.append($0) } == nil)
        #expect(warnings.count == 1 && warnings[0].contains("other settings"), "\(warnings)")

        // Same key, but the run has other methods or more steps: the record does not fit it.
        for mismatched in [FineTuneStateStore(cache: cache, key: #"{"test":1}"#, methods: [.dpg] + methods, steps: steps),
                           FineTuneStateStore(cache: cache, key: #"{"test":1}"#, methods: methods, steps: steps + 1)] {
            warnings = []
            #expect(mismatched.load { warnings.append($0) } == nil)
            #expect(warnings.count == 1, "\(warnings)")
        }
    }

    @Test("a tuner refuses a checkpoint of another method and is left untouched")
    func otherMethod() throws {
        let prior = self.prior
        let kl = tuner(.klReinforce(beta: 0.5), prior)
        train(kl, to: 2)
        let dpg = tuner(.dpg, prior)
        #expect(throws: TinyLMError.self) { try dpg.resume(from: kl.checkpoint()) }
        let untouched = dpg.policy.parameters.array == prior.model.parameters.array
        #expect(dpg.step == 0 && untouched)
    }

    @Test("discarding deletes the run's folder and the cache folders it leaves empty, and nothing else")
    func discard() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try savedState(in: cache)
        store(cache).discard()
        #expect(!FileManager.default.fileExists(atPath: cache.path))

        _ = try savedState(in: cache)
        let neighbour = cache.appendingPathComponent("tinylm/model.safetensors")
        try FileManager.default.createDirectory(at: neighbour.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([1]).write(to: neighbour)
        store(cache).discard()
        #expect(!FileManager.default.fileExists(atPath: store(cache).root.path))
        #expect(FileManager.default.fileExists(atPath: neighbour.path))
    }
}
