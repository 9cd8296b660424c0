// Chapter 3: the optimal policy is a Bayesian posterior (paper §4, eqs. 5-6).
//
// The maximiser of the KL-regularised objective is the prior reweighted by exp(r/β) and
// renormalised, and the maximum is β log Z. This program checks both against random policies,
// against a general-purpose optimiser that knows nothing of the formula (its answer compared
// with the closed form), against closed forms on bit strings, and at the two ends of the
// temperature scale.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct OptimalPolicy: ParsableCommand {
    static let chapter = Chapter(
        slug: "03-optimal-policy", number: 3, title: "The optimal policy is the posterior",
        summary: "The KL-regularised objective is maximised by π0 exp(r/β)/Z and nothing else, with value β log Z; "
            + "β interpolates between the prior and collapse.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 3: the optimal KL-regularised policy is the posterior π0 exp(r/β)/Z, worth β log Z.",
        discussion: "Verifies paper §4 (eqs. 5-6) on exact finite distributions and writes "
            + "Output/03-optimal-policy.html and .json. Exit 0: every check holds; 1: a check failed; "
            + "2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {
        static let outcomes = 1000
        static let outcomesNote = "the optimiser runs on the first \(optimiserOutcomes) at most"
        static let beta = 0.1
        static let betaRange = 0.01...100.0
        static let betaMeaning = "Temperature β of eq. 5"
        static let betaNote = "rewards lie in [0, 1]"
    }

    @OptionGroup var common: ChapterOptions
    @OptionGroup var space: ExactSpaceOptions<Defaults>

    @Option(help: "Length L of the bit strings of the closed-form oracle (1 to 20; 2^L outcomes are enumerated).")
    var length: Int = 16

    @Option(help: "Prior probability p of a one in each bit of the oracle (0.001 to 0.999).")
    var bitProbability: Double = 0.3

    @Option(help: ArgumentHelp(
        "Iteration cap of the BFGS optimiser, over all its restarts (1 to 1000000). A small cap stops it before its "
            + "stopping rule, and the checks of its answer against π* then fail.",
        valueName: "n"))
    var maxIterations: Int = 20_000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (1...20).contains(length) else {
            throw ValidationError("--length must be between 1 and 20 (got \(length))")
        }
        guard bitProbability.isFinite, bitProbability >= 0.001, bitProbability <= 0.999 else {
            throw ValidationError("--bit-probability must be a number in [0.001, 0.999] (got \(bitProbability))")
        }
        guard (1...1_000_000).contains(maxIterations) else {
            throw ValidationError("--max-iterations must be between 1 and 1000000 (got \(maxIterations))")
        }
    }

    func run() throws {
        let parameters = [("outcomes", "\(space.outcomes)"), ("beta", "\(space.beta)"), ("length", "\(length)"),
                          ("bit-probability", "\(bitProbability)"), ("max-iterations", "\(maxIterations)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let setting = Setting(outcomes: space.outcomes, beta: space.beta, seeds: seeds)
            let c = Context(page: page, seeds: seeds, setting: setting, quick: common.quick,
                            maxIterations: maxIterations, length: length, bitProbability: bitProbability)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            fourReplies(c)
            normalisation(c)
            upperBound(c)
            try optimiser(c)
            try bitStrings(c)
            limits(c)
            page.insert(at: top) { findings(page) }
        }
    }
}

/// What every section reads: the page, the random streams, the exact problem and the options.
struct Context {
    let page: Page
    let seeds: Seeds
    let setting: Setting
    let quick: Bool
    let maxIterations: Int
    let length: Int
    let bitProbability: Double
}

// MARK: - The setting

/// A Dirichlet(1) prior with full support and rewards uniform on [0, 1], with the posterior
/// and log Z of eq. 5 (the problem's members, `prior`, `reward`, `beta`, are read through).
@dynamicMemberLookup
struct Setting {
    let solved: SolvedProblem

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        let rng = seeds.generator("setting")
        let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        self.init(ExactProblem(prior: prior, reward: (0..<n).map { _ in rng.uniform() }, beta: beta))
    }

    init(_ problem: ExactProblem) { solved = SolvedProblem(problem) }

    subscript<T>(dynamicMember path: KeyPath<SolvedProblem, T>) -> T { solved[keyPath: path] }
    var n: Int { solved.count }
    var logZ: Double { solved.logEvidence }
    var maxAbsReward: Double { self.reward.map { Swift.abs($0) }.max()! }
    var rewardRange: Double { self.reward.max()! - self.reward.min()! }

    /// J_KLRL(π) = E_π[r] − β KL(π ‖ π0) (eq. 3).
    func objective(_ pi: Distribution) -> Double {
        Objective.klRegularised(pi, prior: self.prior, reward: self.reward, beta: self.beta)
    }

    /// The first m outcomes, prior renormalised, same rewards and β.
    func subspace(_ m: Int) -> Setting {
        guard m < n else { return self }
        return Setting(ExactProblem(prior: Distribution(logWeights: Array(self.prior.logProbabilities.prefix(m))),
                                    reward: Array(self.reward.prefix(m)), beta: self.beta))
    }
}

/// 1 + max(|log p(x)|, |log q(x)|) over the support of p: the size of the logarithms in the KL
/// terms (a difference of two rounded logarithms is only as exact as the larger one).
func maxLogRatio(_ p: Distribution, _ q: Distribution) -> Double {
    var m = 0.0
    for x in 0..<p.count where p.probabilities[x] > 0 {
        m = max(m, Swift.abs(q.logProbabilities[x]), Swift.abs(p.logProbabilities[x]))
    }
    return 1 + m
}

/// The rounding allowance of J_KLRL(π) = E_π[r] − β KL(π ‖ π0) against β log Z.
func objectiveTolerance(_ s: Setting, _ pi: Distribution) -> Double {
    2 * summationTolerance(s.n, scale: s.maxAbsReward + s.beta * maxLogRatio(pi, s.prior))
        + 4 * Double.ulpOfOne * s.beta * Swift.abs(s.logZ)
}
