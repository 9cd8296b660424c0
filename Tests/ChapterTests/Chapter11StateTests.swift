@testable import Chapter11
@testable import FineTune
import Foundation
import GSL
import Testing
import TinyLM

/// The saved state of chapter 11's trainers at scale, without running the chapter: its curves read
/// back, and a state that does not fit the run is refused with one warning (a truncated file is
/// refused by the store whatever its curves, as `FineTuneStateTests` checks).
@Suite("Chapter 11: the saved state of the trainers at scale")
struct Chapter11StateTests {
    static let steps = 10
    static var ids: [String] { AtScale.trainers.map(\.id) }

    /// A measurement of a tiny model, as the curves hold (texts of a, b and spaces).
    static func measurement(seed: UInt64) -> PolicyMeasurement {
        let tokenizer = CharTokenizer(texts: ["ab ba", "a b"])
        let model = GPT(config: GPTConfig(vocabSize: tokenizer.count, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8), seed: 5)
        return PolicyMeasurement.measure(policy: model, prior: model, tokenizer: tokenizer, preference: TargetWord("a"),
                                         beta: 0.25, count: 8, rng: RandomGenerator(seed: seed))
    }

    static func curve(_ index: Int, at evaluated: [Int]) -> AtScale.Curve {
        var c = AtScale.Curve(trainer: AtScale.trainers[index], prior: measurement(seed: 1))
        for s in evaluated { c.append(step: s, measurement(seed: UInt64(10 + s))) }
        return c
    }

    func store(_ cache: URL, runs: [String] = Self.ids, steps: Int = Self.steps) -> TrainersStateStore {
        TrainersStateStore(cache: cache, names: AtScale.stateNames, key: #"{"test":1}"#, runs: runs, steps: steps)
    }

    func temporaryCache() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trainers-state-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("finished curves read back equal, and one that does not fit the run is refused with one warning")
    func roundTripAndRefusal() throws {
        let cache = try temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let finished = [Self.curve(0, at: [5, Self.steps])]
        try store(cache).save(finished: finished, current: nil)
        var warnings: [String] = []
        let restored = try #require(store(cache).load { warnings.append($0) })
        #expect(warnings.isEmpty)
        #expect(restored.finished.map(\.trainerID) == [Self.ids[0]] && restored.finished[0].steps == [0, 5, Self.steps])
        let back = try TrainersStateStore.encoder.encode(restored.finished[0].measurements)
        #expect(back == (try TrainersStateStore.encoder.encode(finished[0].measurements)))
        #expect(restored.position(of: store(cache)) == "1 of \(Self.ids.count) trainers finished")

        // The same record read by a run whose first trainer is another, or that takes more steps.
        for other in [store(cache, runs: Array(Self.ids.reversed())), store(cache, steps: Self.steps + 1)] {
            warnings = []
            #expect(other.load { warnings.append($0) } == nil)
            #expect(warnings.count == 1 && warnings[0].contains("ignoring the trainers-at-scale state"), "\(warnings)")
        }
        // A curve whose steps do not increase from 0.
        try store(cache).save(finished: [Self.curve(0, at: [7, 5, Self.steps])], current: nil)
        warnings = []
        #expect(store(cache).load { warnings.append($0) } == nil)
        #expect(warnings.count == 1 && warnings[0].contains("not whole steps increasing"), "\(warnings)")
    }
}
