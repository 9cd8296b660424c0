import ArgumentParser

/// What a chapter's exact space takes by default: the number of outcomes and the temperature β,
/// their ranges, and a note for `--help`. A chapter declares one caseless enum conforming to
/// this and uses `ExactSpaceOptions<ItsDefaults>` (or only the half it needs).
public protocol ExactSpaceDefaults {
    static var outcomes: Int { get }
    static var outcomesRange: ClosedRange<Int> { get }
    /// Appended to the help of `--outcomes` ("the optimiser runs on the first 300 at most").
    static var outcomesNote: String { get }
    static var beta: Double { get }
    static var betaRange: ClosedRange<Double> { get }
    /// What β is in this chapter ("KL coefficient β of eq. 3").
    static var betaMeaning: String { get }
    /// Appended to the help of `--beta` ("rewards lie in [0, 1]").
    static var betaNote: String { get }
}

extension ExactSpaceDefaults {
    public static var outcomes: Int { 1000 }
    public static var outcomesRange: ClosedRange<Int> { 2...100_000 }
    public static var outcomesNote: String { "" }
    public static var beta: Double { 0.1 }
    public static var betaRange: ClosedRange<Double> { 0.01...100 }
    public static var betaMeaning: String { "Temperature β of the posterior π0 e^{r/β}/Z" }
    public static var betaNote: String { "" }
}

/// `--outcomes`: the size |X| of a chapter's exact space, validated against its range.
public struct OutcomesOption<D: ExactSpaceDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Number of outcomes |X| of the exact space (\(D.outcomesRange.lowerBound) to \(D.outcomesRange.upperBound))"
            + (D.outcomesNote.isEmpty ? "." : "; \(D.outcomesNote)."),
        valueName: "n"))
    public var outcomes: Int = D.outcomes

    public init() {}

    public func validate() throws {
        guard D.outcomesRange.contains(outcomes) else {
            throw ValidationError("--outcomes must be between \(D.outcomesRange.lowerBound) and \(D.outcomesRange.upperBound) (got \(outcomes))")
        }
    }
}

/// `--beta`: a chapter's temperature, finite and inside its range.
public struct BetaOption<D: ExactSpaceDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp(
        "\(D.betaMeaning) (\(BetaOption.show(D.betaRange.lowerBound)) to \(BetaOption.show(D.betaRange.upperBound)))"
            + (D.betaNote.isEmpty ? "." : "; \(D.betaNote)."),
        valueName: "β"))
    public var beta: Double = D.beta

    public init() {}

    public func validate() throws {
        guard beta.isFinite, D.betaRange.contains(beta) else {
            throw ValidationError("--beta must be a number in [\(BetaOption.show(D.betaRange.lowerBound)), \(BetaOption.show(D.betaRange.upperBound))] (got \(beta))")
        }
    }

    static func show(_ x: Double) -> String { x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
}

/// Both options of an exact space: `--outcomes` and `--beta`.
public struct ExactSpaceOptions<D: ExactSpaceDefaults>: ParsableArguments {
    @OptionGroup public var size: OutcomesOption<D>
    @OptionGroup public var temperature: BetaOption<D>

    public var outcomes: Int { size.outcomes }
    public var beta: Double { temperature.beta }

    public init() {}
}
