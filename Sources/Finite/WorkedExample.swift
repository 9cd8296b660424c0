/// The four-outcome example that chapters 3 and 4 start from: the replies a language model can
/// give to one request, a base model's probabilities for them (the prior) and the chance that a
/// reader accepts each one. The reward is the log of that chance, r(x) = log u(x) ≤ 0, so that
/// at β = 1 the likelihood e^{r/β} of the appendix (eq. 8) is u itself.
public enum WorkedExample {
    /// The outcomes, by name.
    public static let outcomes = ["helpful", "hedging", "refusal", "rude"]
    /// π0: the base model mostly hedges.
    public static let priorProbabilities = [0.2, 0.4, 0.3, 0.1]
    /// u(x) = p(O = 1 | x) at β = 1: the chance that a reader accepts the reply.
    public static let acceptability = [0.9, 0.5, 0.3, 0.02]
    /// The three temperatures shown: cold, the appendix's β = 1, and hot.
    public static let betas = [0.25, 1.0, 4.0]

    public static var prior: Distribution { Distribution(weights: priorProbabilities) }
    /// r(x) = log u(x).
    public static var reward: [Double] { acceptability.map { logOf($0) } }

    /// The example at temperature β.
    public static func problem(beta: Double) -> ExactProblem { ExactProblem(prior: prior, reward: reward, beta: beta) }
}
