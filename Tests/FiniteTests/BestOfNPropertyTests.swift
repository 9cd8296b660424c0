import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("Best-of-n (property tests)")
struct BestOfNPropertyTests {
    /// Integer rewards in 0..<levels: many ties when `levels` is small.
    func tiedReward(_ n: Int, levels: Int, _ rng: RandomGenerator) -> [Double] { (0..<n).map { _ in Double(rng.uniformInt(below: levels)) } }

    @Test("the level formula equals brute force over all ordered draws, ties split evenly")
    func exact() async {
        await propertyCheck(count: 80, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...9)
            let rng = RandomGenerator(seed: seed ^ 0xb0b)
            let reward = rng.bernoulli(p: 0.5) ? tiedReward(problem.n, levels: 1 + rng.uniformInt(below: 4), rng) : problem.reward
            for n in 1...3 {
                let brute = BestOfN.bruteForce(prior: problem.prior, reward: reward, n: n)
                let closed = BestOfN.distribution(prior: problem.prior, reward: reward, n: n)
                for x in 0..<problem.n {
                    #expect(abs(brute[x] - closed.probabilities[x]) <= sumTolerance(Int(pow(Double(problem.n), Double(n))), mass: 1), "\(problem) n = \(n)")
                }
            }
        }
    }

    @Test("KL(best-of-n ‖ π0) ≤ log n − (n−1)/n, with or without ties")
    func bound() async {
        await propertyCheck(count: 150, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...2000)
            let rng = RandomGenerator(seed: seed ^ 0xbe57)
            let reward = rng.bernoulli(p: 0.5) ? tiedReward(problem.n, levels: 1 + rng.uniformInt(below: 10), rng) : problem.reward
            let n = 1 + rng.uniformInt(below: 5000)
            let d = BestOfN.distribution(prior: problem.prior, reward: reward, n: n)
            let kl = klDivergence(d, problem.prior)
            let scale = problem.prior.logProbabilities.map { abs($0) }.max()! + log(Double(n)) + 1
            #expect(kl <= BestOfN.quotedKL(n: n) + sumTolerance(problem.n, mass: scale), "\(problem) n = \(n)")
            #expect(abs(d.probabilities.reduce(0, +) - 1) <= sumTolerance(problem.n, mass: 1))
        }
    }

    @Test("best-of-1 is the prior and wins exactly half the time against it")
    func bestOfOne() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...500)
            let rng = RandomGenerator(seed: seed ^ 0x1)
            let reward = tiedReward(problem.n, levels: 1 + rng.uniformInt(below: 6), rng)
            let d = BestOfN.distribution(prior: problem.prior, reward: reward, n: 1)
            #expect(totalVariation(d, problem.prior) <= sumTolerance(problem.n, mass: 1))
            #expect(abs(BestOfN.winRate(problem.prior, prior: problem.prior, reward: reward) - 0.5) <= sumTolerance(problem.n, mass: 1), "\(problem)")
        }
    }

    @Test("at the same KL the posterior's reward is at least best-of-n's")
    func posteriorDominates() async throws {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 2...300)
            let rng = RandomGenerator(seed: seed ^ 0xfeed)
            let reward = rng.bernoulli(p: 0.5) ? tiedReward(problem.n, levels: 2 + rng.uniformInt(below: 6), rng) : problem.reward
            let n = 2 + rng.uniformInt(below: 64)
            let d = BestOfN.distribution(prior: problem.prior, reward: reward, n: n)
            let kl = klDivergence(d, problem.prior)
            guard let beta = try? BestOfN.matchingTemperature(prior: problem.prior, reward: reward, kl: kl) else { return }
            let post = Posterior.distribution(prior: problem.prior, reward: reward, beta: beta)
            let klPost = klDivergence(post, problem.prior)
            let range = reward.max()! - reward.min()!
            let scale = range + problem.prior.logProbabilities.map { abs($0) }.max()! + 1
            #expect(d.expectation(reward) <= post.expectation(reward) + beta * (kl - klPost) + sumTolerance(4 * problem.n, mass: scale), "\(problem) n = \(n)")
        }
    }
}
