import Finite
@testable import FineTune
import Foundation
import GSL
import Testing
import TinyLM

@Suite("FineTune: the per-token losses of PPO, RLOO and GRPO")
struct PolicyTrainerTests {
    /// Central differences of the loss in log π_θ at points away from the clip's kinks.
    @Test("the derivative of the clipped surrogate and the k3 penalty against finite differences", arguments: [
        (-1.2, -1.2, -1.5, 0.7, false), (-1.0, -1.1, -0.8, -0.4, true), (-2.0, -2.5, -1.0, 1.3, true),
        (-0.5, -0.3, -0.9, -2.0, false), (-3.0, -2.9, -3.3, 0.25, true),
    ])
    func derivative(lp: Double, old: Double, reference: Double, advantage: Double, k3: Bool) {
        let f = { (x: Double) in
            TrainerLoss.value(logProb: x, old: old, reference: reference, advantage: advantage, clip: 0.2, beta: 0.7, k3: k3)
        }
        let h = 1e-5
        let numeric = (f(lp + h) - f(lp - h)) / (2 * h)
        let exact = TrainerLoss.derivative(logProb: lp, old: old, reference: reference, advantage: advantage, clip: 0.2,
                                           beta: 0.7, k3: k3)
        // Central differences: truncation h² |f'''| / 6 with |f'''| of order 10 here, plus rounding.
        #expect(abs(numeric - exact) < 1e-8, "finite differences \(numeric), derivative \(exact)")
    }

    @Test("GRPO's sampled group advantages are centred and scaled within each group; RLOO pairs samples")
    func advantages() {
        let r = [0.0, 1, 2, 3, 1, 1, 1, 1]
        let lp = [[Double]](repeating: [-1, -1], count: 8)
        let grpo = TrainerRecipe(advantage: .groupNormalised(group: 4, klInReward: false, scale: .group), k3Loss: true,
                                 epochs: 1, clip: 0.2)
        let a = TrainerLoss.advantages(grpo, rewards: r, old: lp, reference: lp, beta: 1).map { $0[0] }
        #expect(abs(a[0...3].reduce(0, +)) < 1e-12 && a[4...7].allSatisfy { $0 == 0 })
        let sd = (5.0 / 3).squareRoot()   // of 0, 1, 2, 3 with Bessel's correction
        #expect(abs(a[3] - 1.5 / (sd + 1e-4)) < 1e-12)
        let rloo = TrainerRecipe(advantage: .sequenceLeaveOneOut, k3Loss: false, epochs: 4, clip: 0.2)
        let b = TrainerLoss.advantages(rloo, rewards: r, old: lp, reference: lp, beta: 1).map { $0[0] }
        #expect(b[0] == -1 && b[1] == 1 && b[2] == -1 && b[3] == 1)
    }

    /// The exact update's group advantage against a Monte Carlo over groups (the only sampled
    /// check of the exact code here: the chapter checks the rest against its own predictions).
    @Test("the exact GRPO group advantage agrees with groups drawn at random")
    func groupAdvantage() throws {
        let values = [0.0, 1, 2, 3]
        let p = [0.4, 0.3, 0.2, 0.1]
        let exact = ExactTrainer.groupAdvantage(values: values, probabilities: p, group: 5, scale: true)
        let rng = RandomGenerator(seed: 5)
        let sampler = try DiscreteSampler(weights: p)
        var sums = [Double](repeating: 0, count: 4), counts = [Double](repeating: 0, count: 4)
        for _ in 0..<40_000 {
            let g = sampler.sample(rng, count: 5).map { values[$0] }
            let mean = g.reduce(0, +) / 5
            let sd = (g.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4).squareRoot()
            sums[Int(g[0])] += (g[0] - mean) / (sd + 1e-4)
            counts[Int(g[0])] += 1
        }
        for j in 0..<4 {
            // A normalised advantage lies in [−2, 2] for G = 5, so its standard error is at most 2/√n.
            #expect(abs(sums[j] / counts[j] - exact[j]) < 5.3 * 2 / counts[j].squareRoot(), "value \(j)")
        }
    }

    /// A tiny prior over texts of a, b and spaces (as the state tests'), and a trainer on it.
    static func trainer(_ recipe: TrainerRecipe, beta: Double = 0.5) -> PolicyTrainer {
        let tokenizer = CharTokenizer(texts: ["ab ba", "a b"])
        let config = GPTConfig(vocabSize: tokenizer.count, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8)
        var settings = FineTuneSettings()
        settings.batchSize = 16; settings.steps = 10; settings.learningRate = 1e-2
        return PolicyTrainer(recipe: recipe, beta: beta, prior: Checkpoint(model: GPT(config: config, seed: 5), tokenizer: tokenizer),
                             settings: settings, reward: { $0.contains("a b") ? 1 : 0 })
    }

    static let ppo = TrainerRecipe(advantage: .tokenReturnsWhitened, k3Loss: false, epochs: 4, clip: 0.2)
    static let grpo = TrainerRecipe(advantage: .groupNormalised(group: 8, klInReward: false, scale: .group), k3Loss: true,
                                    epochs: 1, clip: 0.2)

    func train(_ t: PolicyTrainer, to step: Int) {
        while t.step < step { t.trainStep(rng: RandomGenerator(seed: UInt64(100 + t.step))) }
    }

    @Test("a trainer resumed from its checkpoint takes the step the original takes", arguments: [ppo, grpo])
    func resumes(recipe: TrainerRecipe) throws {
        let original = Self.trainer(recipe)
        train(original, to: 3)
        let saved = original.checkpoint(metadata: ["note": "kept"])
        #expect(saved.extraMetadata["note"] == "kept" && saved.extraMetadata["step"] == "3")
        // Through the file, as a saved state goes.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-trainer-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try saved.save(to: url)
        let loaded = try Checkpoint.load(url)
        let again = Self.trainer(recipe)
        try again.resume(from: loaded)
        #expect(again.step == 3)
        let atThree = original.policy.parameters.array
        let restoredExactly = again.policy.parameters.array == atThree
        #expect(restoredExactly)
        // The next step uses the optimiser's moments and step: equal only if they were restored too.
        train(again, to: 4)
        train(original, to: 4)
        let sameStep = again.policy.parameters.array == original.policy.parameters.array
        let moved = original.policy.parameters.array != atThree
        #expect(sameStep)
        #expect(moved, "the step changed the policy, so the comparison says something")
        // A fresh trainer given the same generators but not the optimiser state lands elsewhere.
        let fresh = Self.trainer(recipe)
        fresh.policy.parameters.copy(from: loaded.model.parameters)
        fresh.trainStep(rng: RandomGenerator(seed: 103))
        let differs = fresh.policy.parameters.array != original.policy.parameters.array
        #expect(differs, "without the moments the step differs: the test can tell")
    }

    @Test("a trainer refuses a checkpoint of another recipe, another β or an impossible step, and is left untouched")
    func refusesForeign() throws {
        let ppo = Self.trainer(Self.ppo)
        train(ppo, to: 2)
        var late = ppo.checkpoint()
        late.extraMetadata["step"] = "11"
        for (candidate, checkpoint) in [(Self.trainer(Self.grpo), ppo.checkpoint()),
                                        (Self.trainer(Self.ppo, beta: 0.25), ppo.checkpoint()),
                                        (Self.trainer(Self.ppo), late)] {
            let before = candidate.policy.parameters.array
            #expect(throws: TinyLMError.self) { try candidate.resume(from: checkpoint) }
            let untouched = candidate.policy.parameters.array == before
            #expect(candidate.step == 0 && untouched)
        }
    }
}
