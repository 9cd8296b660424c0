import Foundation
import Testing
@testable import TinyLM

@Suite("Corpus, pretraining, resume and cache")
struct CorpusAndPretrainingTests {
    /// A fake fortunes directory: two text files, their .dat and .u8 companions and an off/ folder.
    func fakeFortunes() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-fortunes-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("off"), withIntermediateDirectories: true)
        var a = "", b = ""
        for i in 0..<30 { a += "quote \(i % 10) of a\n\tsecond line\n%\n" }  // 10 distinct, repeated 3 times
        for i in 0..<15 { b += "be \(i)!\n%\n" }
        b += "%\n" + String(repeating: "x", count: 50) + "\n%\n"  // an empty piece and a long one
        try a.write(to: dir.appendingPathComponent("alpha"), atomically: true, encoding: .utf8)
        try b.write(to: dir.appendingPathComponent("beta"), atomically: true, encoding: .utf8)
        for junk in ["alpha.dat", "alpha.u8", "off/rude"] { try "NOT A QUOTE\n%\n".write(to: dir.appendingPathComponent(junk), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func readingRulesAndSplit() throws {
        #expect(FortuneCorpus.quotations(in: "one\n%\n\n  two\nlines \n%\n%\nthree") == ["one", "two\nlines", "three"])
        let dir = try fakeFortunes()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try FortuneCorpus.load(directory: dir.path, maxCharacters: 30)
        #expect(c.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["alpha", "beta"])
        #expect(!c.all.contains { $0.contains("NOT A QUOTE") })
        // 10 distinct from alpha (k = 0..9), 15 from beta (k = 10..24), the long one (k = 25) dropped
        #expect(c.all.count == 25)
        #expect(c.validation == ["quote 9 of a\n\tsecond line", "be 9!"])  // k = 9 and k = 19
        #expect(Set(c.train).isDisjoint(with: c.validation))
        #expect(throws: TinyLMError.self) { try FortuneCorpus.load(directory: dir.path + "/nope", maxCharacters: 30) }
    }

    func microSettings(_ dir: URL) -> PretrainSettings {
        var s = PretrainSettings()
        s.nLayer = 1; s.nHead = 2; s.nEmbd = 8; s.blockSize = 32; s.batchSize = 4; s.steps = 12
        s.warmupSteps = 2; s.evalInterval = 6; s.checkpointInterval = 5; s.corpusDirectory = dir.path
        return s
    }

    @Test func killedAndResumedRunEqualsUninterruptedRun() throws {
        let dir = try fakeFortunes()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = microSettings(dir)
        let whole = try Pretrainer(settings: s)
        try whole.run(checkpointURL: nil)
        let url = dir.appendingPathComponent("run.safetensors")
        let first = try Pretrainer(settings: s)
        try first.run(checkpointURL: url, stopAfter: 7)  // "killed" at step 7; last checkpoint at step 5
        #expect(try Checkpoint.load(url).extraMetadata["step"] == "5")
        let second = try Pretrainer(settings: s)
        try second.run(checkpointURL: url)
        #expect(second.step == s.steps)
        #expect(second.model.parameters.array == whole.model.parameters.array, "bitwise equal parameters")
        #expect(second.lastLoss == whole.lastLoss)
        #expect(whole.lastLoss < log(Double(whole.tokenizer.count)), "the loss fell below uniform guessing")
        var other = s
        other.seed = 99
        #expect(throws: TinyLMError.self) { try Pretrainer(settings: other).resume(from: Checkpoint.load(url)) }
    }

    @Test func cacheReusesACompleteRun() throws {
        let dir = try fakeFortunes()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = microSettings(dir)
        let cache = dir.appendingPathComponent("cache", isDirectory: true)
        let a = try PretrainCache.pretrainedModel(settings: s, directory: cache, showProgress: false, log: { _ in })
        let url = PretrainCache.url(for: s, in: cache)
        let stamp = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
        let b = try PretrainCache.pretrainedModel(settings: s, directory: cache, showProgress: false, log: { _ in })
        #expect(b.model.parameters.array == a.model.parameters.array)
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date == stamp, "not retrained")
        var t = s
        t.steps = 13
        #expect(PretrainCache.url(for: t, in: cache) != url, "other settings, other key")
    }
}
