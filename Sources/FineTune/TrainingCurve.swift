/// What was measured of one method along training: the steps evaluated, the policy's
/// measurement at each, and the terms of the forward KL(π*_b ‖ π_θ) on exact posterior samples.
public struct TrainingCurve: Sendable, Codable {
    public let method: Method
    public private(set) var steps: [Double] = []
    public private(set) var measurements: [PolicyMeasurement] = []
    /// Per evaluation, per exact posterior sample: log π0(x) - log Z_b - log π_θ(x).
    public private(set) var forwardTerms: [[Double]] = []

    public init(method: Method) { self.method = method }

    /// The forward KL(π*_b ‖ π_θ) at each evaluation: the mean of its terms (NaN without samples).
    public var forwardKL: [Double] { forwardTerms.map { $0.isEmpty ? .nan : $0.reduce(0, +) / Double($0.count) } }

    /// The step of the last evaluation, if any.
    public var lastStep: Int? { steps.last.map { Int($0) } }

    public mutating func append(step: Int, _ measurement: PolicyMeasurement, forwardTerms terms: [Double]) {
        steps.append(Double(step))
        measurements.append(measurement)
        forwardTerms.append(terms)
    }

    /// Why the curve cannot be the record of its method's run up to step `last` (at most `limit`
    /// steps), or nil when it can: one entry an evaluation, the first at step 0, whole steps
    /// increasing up to `last`.
    func inconsistency(through last: Int, limit: Int) -> String? {
        guard measurements.count == steps.count, forwardTerms.count == steps.count else {
            return "\(method) has \(steps.count) steps, \(measurements.count) measurements and \(forwardTerms.count) sets of forward-KL terms"
        }
        return TrainingCurve.stepsInconsistency(steps, of: "\(method)", through: last, limit: limit)
    }

    /// Why `steps` cannot be the evaluation steps of `run` up to step `last` (at most `limit`),
    /// or nil when they can: whole steps, the first 0, increasing up to `last`.
    public static func stepsInconsistency(_ steps: [Double], of run: String, through last: Int, limit: Int) -> String? {
        guard steps.first == 0, steps.allSatisfy({ $0 == $0.rounded() && (0...Double(limit)).contains($0) }),
              zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 }), let end = steps.last.map({ Int($0) }), end <= last
        else { return "the evaluation steps of \(run) are not whole steps increasing from 0 to at most \(last)" }
        return nil
    }
}
