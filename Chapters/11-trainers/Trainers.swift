// Chapter 11: what PPO, RLOO and GRPO converge to.
//
// Practitioners fine-tune with PPO, RLOO or GRPO, each with its own way of applying the KL
// penalty. On chapter 10's enumerable bridge every trainer's expected update is a finite sum, so
// each can be iterated exactly to its fixed point and that point compared with π*_β; then the
// same trainers run with samples on the bridge's transformer and on chapter 10's TinyLM prior.
import ArgumentParser
import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

@main
struct Trainers: ParsableCommand {
    static let chapter = Chapter(
        slug: "11-trainers", number: 11, title: "What PPO, RLOO and GRPO converge to",
        summary: "Each trainer's exact fixed point on the enumerable bridge against $\\pi^*_\\beta$, the same "
            + "trainers with samples, and at scale on chapter 10's prior: which KL settings approximate the posterior.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 11: the fixed points of PPO, RLOO and GRPO against the posterior π0 e^{r/β}/Z.",
        discussion: #"""
            Iterates each trainer's exact expected update to its fixed point on chapter 10's enumerable bridge, \#
            runs the same trainers with samples on the bridge's transformer and on chapter 10's pretrained prior \#
            (taken from the cache in Output/.cache/tinylm, or $TINYLM_CACHE, or pretrained), and writes \#
            Output/11-trainers.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.
            """#)

    enum Defaults: ExactSpaceDefaults {
        static let beta = 0.5
        static let betaRange = 0.05...20.0
        static let betaMeaning = "KL coefficient β of every trainer on the bridge"
    }

    @OptionGroup var common: ChapterOptions
    @OptionGroup var temperature: BetaOption<Defaults>
    var beta: Double { temperature.beta }

    @Option(help: "KL coefficient β of the trainers at scale (0.01 to 100; default 0.25, chapter 10's).")
    var scaleBeta: Double = 0.25

    @Option(help: "Fine-tuning steps of each trainer at scale (10 to 100000; default 100, or 50 with --quick).")
    var steps: Int?

    @Option(help: ArgumentHelp("Testing aid: stop (exit 3) once this many steps of the trainers at scale in total are "
                               + "done, after saving the state.", visibility: .hidden))
    var stopAfterSteps: Int?

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard scaleBeta.isFinite, (0.01...100).contains(scaleBeta) else {
            throw ValidationError("--scale-beta must be between 0.01 and 100 (got \(scaleBeta))")
        }
        if let s = steps, !(10...100_000).contains(s) {
            throw ValidationError("--steps must be between 10 and 100000 (got \(s))")
        }
        if let n = stopAfterSteps, n < 1 {
            throw ValidationError("--stop-after-steps must be a positive number of steps (got \(n))")
        }
    }

    func run() throws {
        let quick = common.quick
        let scaleSteps = steps ?? (quick ? 50 : 100)   // chapter 10 runs 150; PPO and RLOO take 4 epochs a batch
        let learningRate = quick ? 2e-4 : 3e-5   // chapter 10's
        let cache = URL(fileURLWithPath: common.output, isDirectory: true)
            .appendingPathComponent(".cache", isDirectory: true)
        // The state of an interrupted run of the trainers at scale: discarded once the report is written.
        var state: TrainersStateStore?
        do {
            try Self.chapter.run(options: common, parameters: [
                ("beta", "\(beta)"), ("scale-beta", "\(scaleBeta)"), ("steps", "\(scaleSteps)"),
                ("learning-rate", "\(learningRate)"),
            ]) { page, seeds in
                // The findings are known only at the end of the run; they are shown first.
                let top = page.mark()
                let exact = try ExactBridge(page: page, seeds: seeds, quick: quick, beta: beta).run()
                _ = try SampledBridge(page: page, seeds: seeds, quick: quick, exact: exact).run()
                try AtScale(page: page, seeds: seeds, quick: quick, beta: scaleBeta, exact: exact, steps: scaleSteps,
                            learningRate: learningRate, stateCache: cache, stopAfter: stopAfterSteps,
                            storeMade: { state = $0 }).run()
                page.insert(at: top) { exact.findings(page) }
            }
        } catch let failed as ChecksFailed {
            state?.discard()   // the report is written, failing checks and all: the state has served
            throw failed
        }
        state?.discard()
    }
}

func fmt(_ x: Double) -> String { NumberFormat.format(x, significant: 4) }

func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
