import Diagnose
import Foundation
import GSL
import Testing

/// Exact mode against an independent computation: the same quantities in double-double
/// arithmetic, in linear space (weights e^{r/β - max}, sums of probabilities) rather than the
/// tool's log-sum-exp, and against exact small cases whose answers are rationals.
@Suite("diagnose table: exact mode")
struct ExactModeTests {
    /// The reference: every quantity of `ExactDiagnosis` in double-double.
    struct Reference {
        var logPartition: Double, klPosteriorPrior: Double, expectedRewardPosterior: Double
        var posterior: [Double]
        var objective = 0.0, expectedReward = 0.0, klPolicyPrior = 0.0, klPolicyPosterior = 0.0, elbo = 0.0

        init(logPrior raw: [Double], reward: [Double], logPolicy: [Double]?, beta: Double) {
            let n = raw.count
            let m0 = raw.max()!
            let w0 = raw.map { DoubleDouble.exp(DoubleDouble($0) - DoubleDouble(m0)) }
            let z0 = exactSum(w0)
            let logZ0 = z0.log + m0
            let logPrior = raw.map { DoubleDouble($0) - logZ0 }
            let prior = w0.map { $0 / z0 }
            let rb = reward.map { DoubleDouble($0) / DoubleDouble(beta) }
            let top = rb.map(\.hi).max()!
            let e = rb.map { DoubleDouble.exp($0 - DoubleDouble(top)) }
            let z = exactSum((0..<n).map { prior[$0] * e[$0] })
            let logZ = z.log + top
            let post = (0..<n).map { prior[$0] * e[$0] / z }
            logPartition = logZ.value
            posterior = post.map(\.value)
            klPosteriorPrior = exactSum((0..<n).map { post[$0] * (rb[$0] - logZ) }).value
            expectedRewardPosterior = exactSum((0..<n).map { post[$0] * reward[$0] }).value
            if let lp = logPolicy {
                let mp = lp.max()!
                let wp = lp.map { DoubleDouble.exp(DoubleDouble($0) - DoubleDouble(mp)) }
                let zp = exactSum(wp)
                let logPolicy = lp.map { DoubleDouble($0) - (zp.log + mp) }
                let pol = wp.map { $0 / zp }
                let er = exactSum((0..<n).map { pol[$0] * reward[$0] })
                let klPrior = exactSum((0..<n).map { pol[$0] * (logPolicy[$0] - logPrior[$0]) })
                // log π*(x) = log π0(x) + r/β − log Z.
                let klPost = exactSum((0..<n).map { pol[$0] * (logPolicy[$0] - (logPrior[$0] + rb[$0] - logZ)) })
                let elbo = exactSum((0..<n).map { pol[$0] * (rb[$0] + logPrior[$0] - logPolicy[$0]) })
                expectedReward = er.value; klPolicyPrior = klPrior.value; klPolicyPosterior = klPost.value; self.elbo = elbo.value
                objective = (er - DoubleDouble(beta) * klPrior).value
            }
        }
    }

    /// |a − b| ≤ tol · (scale + |b|), with the reason in the message.
    func close(_ a: Double, _ b: Double, _ tol: Double, scale: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Swift.abs(a - b) <= tol * (scale + Swift.abs(b)), "\(what): tool \(a), reference \(b)", sourceLocation: sourceLocation)
    }

    @Test("random tables agree with the double-double reference", arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomTables(seed: UInt64) throws {
        let rng = RandomGenerator(seed: seed)
        let n = [2, 3, 10, 100, 1000, 5000, 2, 50][Int(seed - 1)]
        let alpha = [0.1, 1, 10][Int(seed % 3)]
        // Unnormalised prior (shifted by a random constant), rewards on a random scale.
        let shift = 20 * rng.uniform() - 10
        let logPrior = rng.dirichlet(count: n, concentration: alpha).map { $0 > 0 ? log($0) + shift : -Double.infinity }
        let scale = [0.01, 1, 100][Int(seed % 3)]
        let reward = (0..<n).map { _ in scale * (2 * rng.uniform() - 1) }
        let beta = [0.05, 0.5, 5, 50][Int(seed % 4)] * scale
        let policyWeights = rng.dirichlet(count: n, concentration: 1).map { log($0) }
        let z = policyWeights.reduce(-Double.infinity) { max($0, $1) }
        let lse = z + log(policyWeights.reduce(0) { $0 + exp($1 - z) })
        let logPolicy = policyWeights.map { $0 - lse }
        // The prior must give mass wherever the policy does: Dirichlet(0.1) can underflow to 0.
        let logPriorFixed: [Double] = logPrior.map { (v: Double) -> Double in v == -Double.infinity ? shift - 700 : v }
        let table = ExactTable(logPrior: logPriorFixed, reward: reward, logPolicy: logPolicy)
        let d = try ExactDiagnosis.compute(table, beta: beta, file: "t.csv", policyTolerance: 1e-9)
        let ref = Reference(logPrior: logPriorFixed, reward: reward, logPolicy: logPolicy, beta: beta)
        // Tolerance: the tool's roundings are a few ε per term times the magnitudes |log π0|,
        // |r/β|, |log Z| (up to ~700 here); 1e-13 relative to that magnitude is ≥ 100× the bound.
        let magnitude = (logPriorFixed.map { Swift.abs($0 - shift) }.max()! + reward.map { Swift.abs($0) / beta }.max()! + 1)
        close(d.logPartition, ref.logPartition, 1e-14, scale: magnitude, "log Z")
        close(d.klPosteriorPrior, ref.klPosteriorPrior, 1e-14, scale: magnitude, "KL(π* ‖ π0)")
        close(d.expectedRewardPosterior, ref.expectedRewardPosterior, 1e-14, scale: scale * magnitude, "E_π*[r]")
        let worst = zip(d.posterior, ref.posterior).map { Swift.abs($0 - $1) / ($1 * magnitude + 1e-300) }.max()!
        #expect(worst <= 1e-14, "posterior relative error \(worst)")
        let m = try #require(d.policy)
        close(m.expectedReward, ref.expectedReward, 1e-14, scale: scale * magnitude, "E_π[r]")
        close(m.klPolicyPrior, ref.klPolicyPrior, 1e-14, scale: magnitude, "KL(π ‖ π0)")
        close(m.klPolicyPosterior, ref.klPolicyPosterior, 1e-14, scale: magnitude, "KL(π ‖ π*)")
        close(m.elbo, ref.elbo, 1e-14, scale: magnitude, "ELBO")
        close(m.objective, ref.objective, 1e-14, scale: beta * magnitude, "J_KLRL")
        // The identities checked in the report hold on these numbers.
        let allPass = DiagnoseChecks.exact(d, table: table).allSatisfy { $0.passed }
        #expect(allPass)
    }

    /// A case with a known closed form: prior (1/2, 1/4, 1/4), rewards β log(1, 2, 4), so that
    /// e^{r/β} = 1, 2, 4, Z = 1/2 + 1/2 + 1 = 2, π* = (1/4, 1/4, 1/2), KL(π* ‖ π0) = Σ π* log(π*/π0)
    /// = 1/4 log(1/2) + 1/4 log 1 + 1/2 log 2 = (1/4) log 2; with the policy π = π0:
    /// KL(π ‖ π0) = 0, ELBO = E_π0[r]/β = (1/4)log 2 + (1/4)log 4 = (3/4) log 2, KL(π ‖ π*) = log 2 − (3/4) log 2.
    @Test("a small case with exact answers")
    func exactSmallCase() throws {
        let beta = 0.7
        let l2 = log(2.0)
        let table = ExactTable(logPrior: [log(0.5), log(0.25), log(0.25)].map { $0 + 3 },   // unnormalised by e^3
                               reward: [0, beta * l2, beta * 2 * l2], logPolicy: [log(0.5), log(0.25), log(0.25)])
        let d = try ExactDiagnosis.compute(table, beta: beta, file: "t.csv")
        let ulps = 8 * Double.ulpOfOne
        #expect(Swift.abs(d.priorLogNormaliser - 3) <= ulps * 3)
        #expect(Swift.abs(d.logPartition - l2) <= ulps * 4)
        for (a, b) in zip(d.posterior, [0.25, 0.25, 0.5]) { #expect(Swift.abs(a - b) <= ulps) }
        #expect(Swift.abs(d.klPosteriorPrior - l2 / 4) <= ulps * 4)
        let m = try #require(d.policy)
        #expect(Swift.abs(m.klPolicyPrior) <= ulps * 4)
        #expect(Swift.abs(m.elbo - 0.75 * l2) <= ulps * 4)
        #expect(Swift.abs(m.klPolicyPosterior - 0.25 * l2) <= ulps * 4)
        #expect(Swift.abs(m.objective - beta * 0.75 * l2) <= ulps * 4)
        #expect(Swift.abs(d.expectedRewardPosterior - (0.25 * beta * l2 + 0.5 * beta * 2 * l2)) <= ulps * 4)
    }

    @Test("extreme temperatures: β = 1e-3 with rewards of ±1e3 neither overflow nor lose the posterior")
    func extremes() throws {
        let reward = [-1000.0, 0, 1000, 999.999]
        let table = ExactTable(logPrior: [0, 0, -50, 0], reward: reward, logPolicy: [-1e9, -1e9, 0, -1e9].map { $0 == 0 ? 0 : -.infinity })
        let d = try ExactDiagnosis.compute(table, beta: 1e-3, file: "t.csv")
        let ref = Reference(logPrior: [0, 0, -50, 0], reward: reward, logPolicy: nil, beta: 1e-3)
        let magnitude = 1e6 + 50
        #expect(Swift.abs(d.logPartition - ref.logPartition) <= 1e-14 * magnitude)
        let finite = d.posterior.allSatisfy { $0.isFinite }
        #expect(finite)
        let allPass = DiagnoseChecks.exact(d, table: table).allSatisfy { $0.passed }
        #expect(allPass)
    }
}
