// Chapter 10: the same story on a transformer.
//
// A character-level GPT pretrained here on Debian's fortune cookies is the prior π0. Plain
// REINFORCE, KL-regularised REINFORCE and DPG fine-tune copies of it on the same sample budget
// and seeds; rejection sampling from π0 gives exact samples of the constrained posterior. The
// preference is binary, so every posterior's normaliser is a closed form in Z_b, a binomial
// count with a stated interval, and each method's distance to its own target is estimated
// without importance weights. The chapter measures what the exact chapters predicted: plain RL
// collapses, KL-RL and DPG move toward their posteriors (how far they get is measured, with its
// error). A bridge section runs the same code on a space small enough to enumerate, where every
// identity is exact.
import ArgumentParser
import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

@main
struct FineTuning: ParsableCommand {
    static let chapter = Chapter(
        slug: "10-fine-tuning", number: 10, title: "The same story on a transformer",
        summary: "A tiny GPT pretrained on fortune cookies, fine-tuned by plain RL, KL-regularised RL and DPG: "
            + "whether plain RL collapses it, and how near the others bring it to the Bayesian posteriors of a binary "
            + "preference, measured with stated errors; on an enumerable space every identity is exact.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 10: RL collapses a tiny language model; KL-RL and DPG move it toward the Bayesian "
            + "posterior.",
        discussion: #"""
            Pretrains (or takes from the cache in Output/.cache/tinylm, or $TINYLM_CACHE) a character GPT on \#
            Debian's fortunes, fine-tunes it with plain REINFORCE, KL-regularised REINFORCE at two temperatures and \#
            DPG, and writes Output/10-fine-tuning.html and .json. Exit 0: every check holds; 1: a check failed; 2: \#
            bad usage or input. While it fine-tunes, the run saves its state in the output folder's \#
            .cache/fine-tuning at every evaluation; run again with the same options after an interruption and it \#
            continues from there to the same report. The state is deleted once the report is written.
            """#)

    enum Defaults: ExactSpaceDefaults {
        static let beta = 0.125
        static let betaRange = 0.01...100.0
        static let betaMeaning = "Temperature β of the first KL-regularised run (the second uses 2β)"
    }

    @OptionGroup var common: ChapterOptions

    @Option(help: ArgumentHelp("The target word of the constraint b(x) and the reward r(x) (letters only; default: "
                               + "love, or 'the' with --quick)."))
    var word: String?

    @Option(help: "Fine-tuning steps of each method (10 to 100000; default 150).")
    var steps: Int?

    @Option(help: "Samples a fine-tuning step (4 to 512).")
    var batchSize: Int = 64

    @OptionGroup var temperature: BetaOption<Defaults>
    var beta: Double { temperature.beta }

    @Option(help: ArgumentHelp(
        "Learning rate of fine-tuning (AdamW, no weight decay), 0 < lr <= 0.1 (default 3e-5, or 2e-4 with --quick: "
            + "small batches add KL through their noise, and a larger step on the larger model moves it away from its "
            + "posterior)."))
    var learningRate: Double?

    @Option(help: ArgumentHelp(
        "Learning rate of plain RL, 0 < lr <= 0.1 (default 1e-4, or the --learning-rate with --quick: at 3e-5 plain RL "
            + "reaches its collapse thresholds between steps 150 and 200, and its maximiser is the point mass whatever "
            + "the rate)."))
    var rlLearningRate: Double?

    @Option(help: ArgumentHelp(
        "The learning rate at the last step as a fraction of --learning-rate, reached along a half cosine "
            + "(0 < f <= 1; 1 keeps the rate constant; default 1, or 0.1 with --quick)."))
    var learningRateDecay: Double?

    @Option(help: ArgumentHelp(
        "How KL-regularised RL estimates the gradient of its penalty: sequence-k1 (the whole log-ratio of each sample "
            + "in its reward, eq. 4) or prefix-exact (chapter 9's exact per-prefix KL, its gradient at every position "
            + "plus a reward-to-go of the KL still to come). Both are unbiased. The defaults prefix-exact and "
            + "--reward-credit to-go together ended nearer π*_β than sequence-k1 with sequence credit on two of the "
            + "three seeds we measured, and on average (see the README).",
        valueName: "estimator"))
    var klGradient: PenaltyGradient = .prefixExact

    @Option(help: ArgumentHelp(
        "Which tokens KL-regularised RL credits with the word's reward b: sequence (every token of the text, eq. 4) "
            + "or to-go (only the tokens up to the one that decides b, the character after the word's first "
            + "occurrence, with the mean b of the other samples still undecided there as baseline). Both are "
            + "unbiased.",
        valueName: "credit"))
    var rewardCredit: RewardCredit = .toGo

    @Option(help: ArgumentHelp(
        "How DPG trains on the text after the token that decides the word: sampled (each token's score with the "
            + "sample's importance weight) or exact (there the target's next-token distribution is the prior's, so "
            + "its expected score is summed over the vocabulary, weighted by the prefix's importance ratio; before "
            + "it, the weight is the ratio of the text up to the deciding token). Both are unbiased; exact ended "
            + "nearer π*_b on both seeds we measured (see the README).",
        valueName: "how"))
    var dpgContinuation: DPGContinuation = .exact

    @Option(help: ArgumentHelp("Testing aid: stop (exit 3) once this many fine-tuning steps in total are done, after "
                               + "saving the state.", visibility: .hidden))
    var stopAfterSteps: Int?

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        if let w = word, w.isEmpty || !w.allSatisfy({ $0.isLetter }) {
            throw ValidationError("--word must be a word made of letters (got '\(w)')")
        }
        if let s = steps, !(10...100_000).contains(s) {
            throw ValidationError("--steps must be between 10 and 100000 (got \(s))")
        }
        guard (4...512).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 4 and 512 (got \(batchSize))")
        }
        if let lr = learningRate, !(lr.isFinite && lr > 0 && lr <= 0.1) {
            throw ValidationError("--learning-rate must be in (0, 0.1] (got \(lr))")
        }
        if let lr = rlLearningRate, !(lr.isFinite && lr > 0 && lr <= 0.1) {
            throw ValidationError("--rl-learning-rate must be in (0, 0.1] (got \(lr))")
        }
        if let f = learningRateDecay, !(f.isFinite && f > 0 && f <= 1) {
            throw ValidationError("--learning-rate-decay must be in (0, 1] (got \(f))")
        }
        if let n = stopAfterSteps, n < 1 {
            throw ValidationError("--stop-after-steps must be a positive number of steps (got \(n))")
        }
    }

    func run() throws {
        let quick = common.quick
        let target = TargetWord(word ?? (quick ? "the" : "love"))
        var settings = FineTuneSettings()
        settings.batchSize = batchSize
        settings.steps = steps ?? 150
        settings.learningRate = learningRate ?? (quick ? 2e-4 : 3e-5)
        settings.reinforceLearningRate = rlLearningRate ?? (quick ? settings.learningRate : 1e-4)
        settings.finalLearningRateFraction = learningRateDecay ?? (quick ? 0.1 : 1)
        settings.klGradient = klGradient
        settings.rewardCredit = rewardCredit
        settings.dpgContinuation = dpgContinuation
        let pretrain = PretrainSettings.fineTuningPrior(quick: quick)
        // The fine-tuning state of an interrupted run: discarded once the report is written.
        var state: FineTuneStateStore?
        do {
            try Self.chapter.run(options: common, parameters: [
                ("word", target.word), ("steps", "\(settings.steps)"), ("batch-size", "\(batchSize)"),
                ("beta", "\(beta)"), ("learning-rate", "\(settings.learningRate)"),
                ("rl-learning-rate", "\(settings.reinforceLearningRate!)"),
                ("learning-rate-decay", "\(settings.finalLearningRateFraction)"),
                ("kl-gradient", klGradient.rawValue), ("reward-credit", rewardCredit.rawValue),
                ("dpg-continuation", dpgContinuation.rawValue),
                ("model", "\(pretrain.nLayer) layers, \(pretrain.nEmbd) wide, \(pretrain.steps) pretraining steps"),
            ]) { page, seeds in
                let top = page.mark()
                let prior: Checkpoint
                do { prior = try PretrainCache.pretrainedModel(settings: pretrain, showProgress: true) } catch {
                    throw InputError("cannot pretrain the prior: \(error)")
                }
                let cache = URL(fileURLWithPath: common.output, isDirectory: true)
                    .appendingPathComponent(".cache", isDirectory: true)
                let study = Study(page: page, seeds: seeds, prior: prior, target: target, settings: settings,
                                  betas: [beta, 2 * beta], quick: quick, priorKey: pretrain.key, stateCache: cache,
                                  stopAfter: stopAfterSteps)
                let store = study.stateStore
                state = store
                try study.run(state: store)
                try Bridge(page: page, seeds: seeds, quick: quick).run()
                page.insert(at: top) { Opening.write(page, betas: study.betas) }
            }
        } catch let failed as ChecksFailed {
            state?.discard()   // the report is written, failing checks and all: the state has served
            throw failed
        }
        state?.discard()
    }
}

extension PenaltyGradient: ExpressibleByArgument {}
extension RewardCredit: ExpressibleByArgument {}
extension DPGContinuation: ExpressibleByArgument {}
