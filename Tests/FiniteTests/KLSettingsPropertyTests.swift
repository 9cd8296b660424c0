import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("KL settings as libraries configure them (property tests)")
struct KLSettingsPropertyTests {
    typealias P = KLSetting.Part

    /// One setting of every kind of part: each term, both placements, each normaliser, each ratio.
    static let settings: [KLSetting] = [
        KLSetting(id: "k3-sequence-mean", library: "", configuration: "",
                  parts: [P(.estimator(.k3), .loss, .sequenceMean)]),
        KLSetting(id: "k3-token-ratio", library: "", configuration: "",
                  parts: [P(.estimator(.k3), .loss, .tokenMean, ratio: .token)]),
        KLSetting(id: "k3-sequence-ratio", library: "", configuration: "",
                  parts: [P(.estimator(.k3), .loss, .constant(3), ratio: .sequence)]),
        KLSetting(id: "clamped", library: "", configuration: "", parts: [P(.clampedK3(maximum: 0.5), .loss, .sum)]),
        KLSetting(id: "abs", library: "", configuration: "", parts: [P(.absolute, .loss, .tokenMean)]),
        KLSetting(id: "k3-plus", library: "", configuration: "",
                  parts: [P(.straightThrough(.k3), .loss, .sum, ratio: .token)]),
        KLSetting(id: "full", library: "", configuration: "", parts: [P(.exactPerPrefix, .loss, .sum, ratio: .token)]),
        KLSetting(id: "k2-reward", library: "", configuration: "",
                  parts: [P(.estimator(.k2), .rewardToGo, .sequenceMean)]),
        KLSetting(id: "k3-reward-and-loss", library: "", configuration: "",
                  parts: [P(.estimator(.k3), .rewardToGo, .sum), P(.estimator(.k3), .loss, .sum)]),
    ]

    @Test("every setting's expected gradient is the derivative of its averaged loss, on- and off-policy")
    func derivatives() async {
        await propertyCheck(count: 12, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed, maxVocabulary: 3, maxLength: 3)
            let rng = RandomGenerator(seed: seed ^ 0x5e)
            let v = (0..<m.space.parameterCount).map { _ in rng.gaussian() }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let u = v.map { $0 / n }
            let at = { (t: Double) in
                AutoregressiveModel(space: m.space, logits: zip(m.policy.logits, u).map { $0 + t * $1 })
            }
            // A kink of |ℓ| or of the clamp inside the differences' step makes them measure the kink.
            for setting in KLSettingsPropertyTests.settings
            where setting.isSmooth(between: at(-1e-3), and: at(1e-3), frozen: m.policy, prior: m.prior) {
                for mu in [nil, m.behaviour] {
                    let g = setting.expectedGradient(policy: m.policy, prior: m.prior, behaviour: mu)
                    let d = KLGradient.directionalDerivative { t in
                        setting.averagedLoss(at: at(t), frozen: m.policy, prior: m.prior, behaviour: mu)
                    }
                    let a = zip(g, u).reduce(0) { $0 + $1.0 * $1.1 }
                    // Richardson error well below the h/h2 gap.
                    #expect(abs(a - d.value) <= 4 * d.spread + 1e-9 * (1 + abs(a)),
                            "\(m) \(setting.id) off: \(mu != nil)")
                }
            }
        }
    }

    @Test("on-policy, k1 in the reward and k3 in the reward and the loss together follow ∇KL(π_θ ‖ π0) exactly")
    func rewardFollowsReverseKL() async {
        await propertyCheck(count: 30, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed)
            let target = gradientOfReverseKL(policy: m.policy, prior: m.prior)
            let k1 = KLSetting(id: "k1", library: "", configuration: "", parts: [P(.estimator(.k1), .rewardToGo, .sum)])
            let k3 = KLSettingsPropertyTests.settings.last!
            let scale = 1 + target.map(abs).max()! + m.policy.conditionalLogProbabilities.map(abs).max()!
                + m.prior.conditionalLogProbabilities.map(abs).max()!
            let tol = sumTolerance(m.space.count * (m.space.maxLength + 2) + m.space.parameterCount, mass: scale * 4)
            for setting in [k1, k3] {
                let g = setting.expectedGradient(policy: m.policy, prior: m.prior)
                #expect(zip(g, target).map { abs($0 - $1) }.max()! <= tol, "\(m) \(setting.id)")
            }
        }
    }
}
