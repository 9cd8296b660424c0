@testable import Chapter08
import BookKit
import Finite
import Foundation
import GSL
import Notebook

/// One counterexample for each check chapter 8 emits: the chapter's own check builder, fed a
/// posterior path at a temperature off by 1%, an off-by-one closed form, a wrong density, a path
/// stopped short, a sign error or a controller stopped after 100 updates.
enum Chapter08Counterexamples {
    static let seeds = Seeds(3)

    static func shape(_ key: String) throws -> Shape {
        try Shape.all(outcomes: 200, seeds: seeds).first { $0.key == key }!
    }

    /// The posterior path with λ off by 1%.
    static func offByOnePercent(_ s: Shape) -> (Double) -> Distribution { { s.tilted(1.01 * $0) } }

    static var proxySpace: ProxySpace { ProxySpace(outcomes: 200, noise: 2, rng: seeds.generator("overoptimisation")) }

    static let keys = ["random", "uniform", "bernoulli"]

    static let perShape: [Counterexample] = keys.flatMap { key -> [Counterexample] in [
        Counterexample("cumulants.mean-\(key)", "the posterior at 1.01 λ") {
            let s = try shape(key)
            return CumulantSweep(s, tilt: offByOnePercent(s)).meanCheck()
        },
        Counterexample("cumulants.divergence-\(key)", "the posterior at 1.01 λ") {
            let s = try shape(key)
            return CumulantSweep(s, tilt: offByOnePercent(s)).divergenceCheck()
        },
        Counterexample("cumulants.variance-\(key)", "the posterior at 1.01 λ") {
            let s = try shape(key)
            return CumulantSweep(s, tilt: offByOnePercent(s)).varianceCheck()
        },
        Counterexample("path.second-order-\(key)", "an off-by-one variance: σ² with the n − 1 denominator") {
            let s = try shape(key)
            var c = Cumulants.firstFour(s.prior, s.reward)
            let n = Double(s.prior.count)
            c.variance *= n / (n - 1)
            return secondOrderCheck(s, cumulants: c, tilt: s.tilted)
        },
        Counterexample("path.hoeffding-\(key)", "the gains of a reward tripled, against the range of the original") {
            let s = try shape(key)
            let points = pathPoints(s, tilt: s.tilted).map { PathPoint(lambda: $0.lambda, gain: 3 * $0.gain, kl: $0.kl) }
            return hoeffdingCheck(s, points: points)
        },
        Counterexample("path.collapse-divergence-\(key)", "the path stopped at λ = 10/R, before it collapses") {
            let s = try shape(key)
            return collapseLimitCheck(s, lambda: 10 / s.range, tilt: s.tilted)
        },
    ] }

    static let all: [Counterexample] = perShape + [
        Counterexample("cumulants.closed-form-uniform", "the closed form with one level too many (m + 1)") {
            let s = try shape("uniform")
            return try closedFormCheck(s) { try Cumulants.discreteUniform(lambda: $0, levels: s.prior.count) }
        },
        Counterexample("cumulants.closed-form-bernoulli", "the closed form with p off by 1%") {
            let s = try shape("bernoulli")
            return try closedFormCheck(s) { try Cumulants.bernoulli(lambda: $0, p: 1.01 * s.prior.probabilities[1]) }
        },
        Counterexample("cumulants.quadrature-continuous-uniform", "log exprel at 1.01 λ") {
            try quadratureCheck { try Cumulants.continuousUniform(lambda: 1.01 * $0) }
        },
        Counterexample("gaussian.square-root-law-exact", "a reward density whose σ is 1% larger than the law's") {
            try gaussianLawCheck(mu: 0.3, sigma: 0.7, density: gaussianDensity(mu: 0.3, sigma: 0.707))
        },
        Counterexample("overoptimisation.slope-is-covariance", "the proxy's posterior path at 1.01 λ") {
            let p = proxySpace
            return slopeCheck(p) { p.tilted(1.01 * $0) }
        },
        Counterexample("overoptimisation.no-noise-never-falls", "a sign error: the path of −gold") {
            let p = proxySpace
            return monotoneCheck(p) { Cumulants.tilted(prior: p.prior, reward: p.gold, lambda: -$0) }
        },
        Counterexample("overoptimisation.best-of-n-divergence", "an off-by-one n: best-of-(n+1) against the bound for n") {
            let p = proxySpace
            return bestOfNCheck(outcomes: 200) {
                klDivergence(BestOfN.distribution(prior: p.prior, reward: p.proxy, n: $0 + 1), p.prior)
            }
        },
        Counterexample("controller.settles", "the controller stopped after 100 updates") {
            let space = ControllerSpace(outcomes: 1000, rng: seeds.generator("controller"))
            let ctl = AdaptiveKLController(target: 6, horizon: 10_000, batchSize: 256)
            let betaStar = try RootFinder.brent(lower: 1e-4, upper: 1e4, relativeTolerance: 1e-14) {
                log(space.kl($0) / 6)
            }
            let run = ctl.run(initialBeta: 0.15, updates: 100, settledStep: settledStep, kl: space.kl)
            return settleCheck(finalBeta: run.betas.last!, betaStar: betaStar, updates: 100)
        },
        Counterexample("controller.small-space-collapses", "the clipped decay stopped after 100 updates") {
            let ctl = AdaptiveKLController(target: 6, horizon: 10_000, batchSize: 256)
            let run = ctl.run(initialBeta: 0.15, updates: 100, kl: smallSpaceKL)
            return smallSpaceCollapseCheck(finalKL: run.kls.last!, updates: 100)
        },
    ]
}
