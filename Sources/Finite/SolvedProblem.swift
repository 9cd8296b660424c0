/// An `ExactProblem` with its posterior π* = π0 e^{r/β}/Z and its log-evidence log Z computed
/// once: what the sections of an exact chapter read again and again.
///
/// Members of the problem are reachable directly (`solved.prior`, `solved.beta`).
@dynamicMemberLookup
public struct SolvedProblem: Sendable {
    public let problem: ExactProblem
    /// π* (eq. 5).
    public let posterior: Distribution
    /// log Z = log Σ_x π0(x) e^{r(x)/β}.
    public let logEvidence: Double

    public init(_ problem: ExactProblem) {
        self.problem = problem
        posterior = problem.posterior
        logEvidence = problem.logEvidence
    }

    public subscript<T>(dynamicMember path: KeyPath<ExactProblem, T>) -> T { problem[keyPath: path] }
}
