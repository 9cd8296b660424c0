import Foundation
import GSL
import Notebook

/// Runs one chapter: builds its page, prints each check as it is made, writes the report and
/// the index, and says whether every check held.
public struct Chapter: Sendable {
    public let slug: String
    public let number: Int
    public let title: String
    public let summary: String
    /// The chapter's sources as compiled (`embeddedSources`, from the EmbedSources plugin): each
    /// section's code is shown under it and their hash goes into the provenance.
    public let sources: ChapterSources?

    /// - Parameter slug: the folder name, "NN-name"; the command is the name without "NN-".
    public init(slug: String, number: Int, title: String, summary: String, sources: ChapterSources? = nil) {
        self.slug = slug; self.number = number; self.title = title; self.summary = summary; self.sources = sources
    }

    /// The executable's name: the slug without its "NN-" prefix ("distribution-collapse").
    public var command: String {
        let parts = slug.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].allSatisfy(\.isNumber) else { return slug }
        return String(parts[1])
    }

    /// The command a reader types to make this page again: `swift run -c release`, the chapter's
    /// command and the arguments it was given (with `--seed` spelled out).
    func reproduction(seed: UInt64) -> String {
        var args = Array(CommandLine.arguments.dropFirst())
        if !args.contains(where: { $0 == "--seed" || $0.hasPrefix("--seed=") }) { args = ["--seed", "\(seed)"] + args }
        return (["swift", "run", "-c", "release", command] + args.map(Environment.shellQuoted)).joined(separator: " ")
    }

    /// Runs `body` on a fresh page and publishes it to `options.output`.
    ///
    /// - Throws: `InputError` if the output folder cannot be written (checked before any work),
    ///   `ChecksFailed` after publishing if any check failed.
    public func run(options: ChapterOptions, parameters: [(String, String)], body: (Page, Seeds) throws -> Void) throws {
        let start = Date()
        guard !options.output.isEmpty else { throw InputError("--output needs a folder name (an empty one would mean the current folder)") }
        let folder = URL(fileURLWithPath: options.output, isDirectory: true)
        do { try AtomicFile.prepareFolder(folder) } catch { throw InputError("\(error)") }
        GSLRuntime.start()

        let page = Page(slug: slug, number: number, title: title, summary: summary)
        page.bibliography = Bibliography.works
        (page.previous, page.next) = BookContents.neighbours(of: slug)
        let colour = Environment.isTerminal
        print("Chapter \(number): \(title)")
        page.onCheck = { c in
            let mark = c.passed ? (colour ? "\u{1B}[32m✓\u{1B}[0m" : "✓") : (colour ? "\u{1B}[31m✗\u{1B}[0m" : "✗")
            print("  \(mark) \(c.sentence)")
        }
        try body(page, Seeds(options.seed))
        let sources = self.sources ?? ChapterMain.sources
        if let sources { page.attachCode { sources.excerpt(at: $0) } }
        page.rerun(command: reproduction(seed: options.seed), help: ChapterMain.helpText)

        var params = Dictionary(parameters, uniquingKeysWith: { _, b in b })
        params["quick"] = options.quick ? "yes" : "no"
        let provenance = RunProvenance.make(seed: options.seed, parameters: params, start: start, sourceHash: sources?.hash)
        do { try Publisher.publish(page, provenance: provenance, to: folder, front: BookContents.front) } catch { throw InputError("\(error)") }
        print("  report: \(folder.appendingPathComponent(slug + ".html").path)")
        print("\(page.passedCount) passed, \(page.failedCount) failed")
        if page.failedCount > 0 { throw ChecksFailed(failed: page.failedCount, total: page.checks.count) }
    }
}

/// Independent, reproducible random streams derived from the chapter's one seed: each part of
/// a chapter asks for its own stream by name, so adding a part never shifts another's numbers.
public struct Seeds: Sendable {
    public let seed: UInt64
    public init(_ seed: UInt64) { self.seed = seed }

    /// A generator for the named stream (SplitMix64 of the seed and the name's FNV-1a hash).
    public func generator(_ stream: String) -> RandomGenerator {
        RandomGenerator(seed: Seeds.mix(seed ^ Seeds.fnv1a(stream)))
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e3779b97f4a7c15
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

/// The book's chapters in reading order, by folder name (a test holds this list to the
/// `Chapters/` folder), for each page's links to the previous and next chapter.
public enum BookContents {
    public static let slugs = [
        "01-distribution-collapse", "02-reward-shaping", "03-optimal-policy", "04-evidence-lower-bound",
        "05-kl-proportionality", "06-modelling-and-inference", "07-forward-and-reverse-kl", "08-square-root-law",
        "09-measuring-kl", "10-fine-tuning", "11-trainers",
    ]

    /// "03-optimal-policy" → "Chapter 3: optimal policy".
    public static func label(_ slug: String) -> String {
        let parts = slug.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let n = Int(parts[0]) else { return slug }
        return "Chapter \(n): " + parts[1].replacingOccurrences(of: "-", with: " ")
    }

    public static func neighbours(of slug: String) -> (previous: PageLink?, next: PageLink?) {
        guard let k = slugs.firstIndex(of: slug) else { return (nil, nil) }
        func link(_ j: Int) -> PageLink? { slugs.indices.contains(j) ? PageLink(href: slugs[j] + ".html", label: label(slugs[j])) : nil }
        return (link(k - 1), link(k + 1))
    }
}

extension BookContents {
    /// The book's front page: what the index says above its table of chapters.
    public static let front = BookFront(
        title: "RL with KL penalties, read as Bayesian inference",
        lede: "An executable companion to Korbak, Perez and Buckley (2022), RL with KL penalties is better viewed as "
            + "Bayesian inference. Each chapter is a program that checks one derivation of the paper with numbers; "
            + "this page lists what the last run found.",
        work: (title: "RL with KL penalties is better viewed as Bayesian inference", url: "https://arxiv.org/abs/2205.11275"),
        argument: #"""
            Fine-tuning a language model $\pi$ with a reward $r$ and a KL penalty of weight $\beta$ towards the
            pretrained model $\pi_0$ maximises $J_{KLRL}(\pi) = \mathbb{E}_{\pi}[r] - \beta \operatorname{KL}(\pi ‖
            \pi_0)$. One identity carries the paper: for every policy, $J_{KLRL}(\pi)/\beta = \log Z -
            \operatorname{KL}(\pi ‖ \pi^*)$, where $\pi^* = \pi_0 e^{r/\beta}/Z$ is the Bayesian posterior with
            prior $\pi_0$ and likelihood $e^{r/\beta}$. So the penalised objective is an evidence lower bound, its
            maximiser is the posterior, and KL-regularised RL is variational inference; without the penalty the same
            objective collapses the model onto its best outcome. Each chapter computes one step of this exactly, on
            finite distributions, and checks it against an independent computation; the last chapter shows it on a
            real, small transformer.
            """#,
        paths: [(reader: "A student of the theory", chapters: [1, 3, 4, 5]),
                (reader: "A practitioner of RLHF", chapters: [2, 9, 8, 10])])
}
