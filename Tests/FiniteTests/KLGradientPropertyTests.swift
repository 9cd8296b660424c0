import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("Expected gradients of KL penalties (property tests)")
struct KLGradientPropertyTests {
    /// Largest coordinate difference.
    func maxDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max()! }

    @Test("the prefix-tree gradients of both KL directions match central differences in every logit")
    func targets() async {
        await propertyCheck(count: 30, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed, maxVocabulary: 3, maxLength: 3)
            let q = m.prior.distribution
            let reverse = PolicyGradient.finiteDifference({ klDivergence(AutoregressiveModel(space: m.space, logits: $0).distribution, q) }, at: m.policy.logits)
            let forward = PolicyGradient.finiteDifference({ klDivergence(q, AutoregressiveModel(space: m.space, logits: $0).distribution) }, at: m.policy.logits)
            // Central differences with h = 1e-5: O(h²) truncation and O(N ε / h) rounding, below 1e-7 here.
            #expect(maxDiff(gradientOfReverseKL(policy: m.policy, prior: m.prior), reverse) <= 1e-7, "\(m)")
            #expect(maxDiff(gradientOfForwardKL(policy: m.policy, prior: m.prior), forward) <= 1e-7, "\(m)")
        }
    }

    @Test("k1 in the reward, k2 as a loss and the ratio times k1 or k3 follow the reverse ∇KL(π‖π0); k3 as a loss follows the forward ∇KL(π0‖π)")
    func unbiasedUsages() async {
        await propertyCheck(count: 40, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed)
            let reverse = gradientOfReverseKL(policy: m.policy, prior: m.prior)
            let forward = gradientOfForwardKL(policy: m.policy, prior: m.prior)
            let scale = 1 + reverse.map(abs).max()! + m.policy.conditionalLogProbabilities.map(abs).max()! + m.prior.conditionalLogProbabilities.map(abs).max()!
            let tol = sumTolerance(m.space.count * (m.space.maxLength + 2) + m.space.parameterCount, mass: scale * 4)
            for usage in [KLPenaltyUsage.k1Reward, .k1RewardToGo, .k2Loss, .ratioK1, .ratioK3] {
                #expect(maxDiff(KLGradient.expected(usage, policy: m.policy, prior: m.prior), reverse) <= tol, "\(m) \(usage)")
            }
            for usage in [KLPenaltyUsage.ratioK1, .ratioK3] {
                let g = KLGradient.expected(usage, policy: m.policy, prior: m.prior, behaviour: m.behaviour)
                let mu = m.behaviour.distribution, p = m.policy.distribution
                let maxRatio = (0..<p.count).map { exp(p.logProbabilities[$0] - mu.logProbabilities[$0]) }.max()!
                #expect(maxDiff(g, reverse) <= tol * maxRatio, "\(m) off-policy \(usage)")
            }
            #expect(maxDiff(KLGradient.expected(.k3Loss, policy: m.policy, prior: m.prior), forward) <= tol, "\(m)")
        }
    }

    @Test("every usage's expected gradient is the derivative of its averaged surrogate loss")
    func surrogates() async {
        await propertyCheck(count: 15, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed, maxVocabulary: 3, maxLength: 3)
            let rng = RandomGenerator(seed: seed ^ 0xd1)
            let v = (0..<m.space.parameterCount).map { _ in rng.gaussian() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let u = v.map { $0 / norm }
            for usage in KLPenaltyUsage.allCases {
                for mu in [nil, m.behaviour] {
                    let g = KLGradient.expected(usage, policy: m.policy, prior: m.prior, behaviour: mu)
                    let d = KLGradient.directionalDerivative { t in
                        KLGradient.surrogate(usage, at: AutoregressiveModel(space: m.space, logits: zip(m.policy.logits, u).map { $0 + t * $1 }),
                                             frozen: m.policy, prior: m.prior, behaviour: mu)
                    }
                    let a = zip(g, u).reduce(0) { $0 + $1.0 * $1.1 }
                    // Richardson error well below the h/h2 gap; rounding of the sums over 1/h.
                    #expect(abs(a - d.value) <= 4 * d.spread + 1e-9 * (1 + abs(a)), "\(m) \(usage) off-policy: \(mu != nil)")
                }
            }
        }
    }
}
