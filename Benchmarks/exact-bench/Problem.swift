import Finite
import Foundation
import GSL

/// numpy's benchmark problem: log π0 = log_softmax(2 z0), r = z1, log π = log_softmax(2 z2) with
/// z0, z1, z2 standard normal (drawn here with GSL, so the numbers differ but not their law).
struct Problem {
    let logPrior: [Double], reward: [Double], logPolicy: [Double], policy: [Double]

    init(n: Int, seed: UInt64) {
        let rng = RandomGenerator(seed: seed)
        func logSoftmax(_ a: [Double]) -> [Double] { LogSpace.normalise(a) }
        logPrior = logSoftmax((0..<n).map { _ in 2 * rng.gaussian() })
        reward = (0..<n).map { _ in rng.gaussian() }
        logPolicy = logSoftmax((0..<n).map { _ in 2 * rng.gaussian() })
        policy = logPolicy.map { Foundation.exp($0) }
    }

    func withBuffers(_ body: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Void) {
        logPrior.withUnsafeBufferPointer { a in reward.withUnsafeBufferPointer { b in
            logPolicy.withUnsafeBufferPointer { c in policy.withUnsafeBufferPointer { d in body(a, b, c, d) } } } }
    }

    /// The six quantities with long-double (Float80) arithmetic where available, and the size of
    /// each sum's terms (Σ|term|) to express errors in.
    struct Reference {
        var values: [Double] = []       // log Z, KL0, KL*, H, J
        var scales: [Double] = []
        var posterior: [Double] = []
    }

    func longDoubleReference(beta: Double) -> Reference {
        #if arch(x86_64) && os(Linux)
        typealias R = Float80
        #else
        typealias R = Double
        #endif
        let n = logPrior.count
        let b = R(beta)
        let a = (0..<n).map { R(logPrior[$0]) + R(reward[$0]) / b }
        let m = a.max()!
        var s: R = 0
        for v in a { s += Foundation.exp(v - m) }
        let logZ = m + Foundation.log(s)
        var kl0: R = 0, kls: R = 0, h: R = 0, e: R = 0
        var s0: R = 0, ss: R = 0, sh: R = 0, se: R = 0
        for x in 0..<n {
            let p = R(policy[x]), l = R(logPolicy[x])
            kl0 += p * (l - R(logPrior[x])); s0 += Swift.abs(p * (l - R(logPrior[x])))
            kls += p * (l - a[x]); ss += Swift.abs(p * (l - a[x]))
            h -= p * l; sh += Swift.abs(p * l)
            e += p * R(reward[x]); se += Swift.abs(p * R(reward[x]))
        }
        var ref = Reference()
        ref.values = [Double(logZ), Double(kl0), Double(kls + logZ), Double(h), Double(e - b * kl0)]
        ref.scales = [Swift.max(1, Swift.abs(Double(logZ))), Double(s0), Double(ss) + Swift.abs(Double(logZ)), Double(sh), Double(se + b * s0)]
        ref.posterior = a.map { Double(Foundation.exp($0 - logZ)) }
        return ref
    }

    /// Each quantity's error as a multiple of ε times its scale; π* as the largest error of an
    /// entry relative to that entry.
    func errors(_ s: ExactKernels.Summary, _ posterior: [Double], _ ref: Reference) -> String {
        let got = [s.logPartitionFunction, s.klToPrior, s.klToPosterior, s.entropy, s.objective]
        let names = ["logZ", "KL0", "KL*", "H", "J"]
        var parts = (0..<5).map { k in "\(names[k]) \(String(format: "%.2g", Swift.abs(got[k] - ref.values[k]) / (Double.ulpOfOne * ref.scales[k])))" }
        var worst = 0.0
        for x in 0..<posterior.count where ref.posterior[x] > 1e-300 { worst = Swift.max(worst, Swift.abs(posterior[x] - ref.posterior[x]) / ref.posterior[x]) }
        parts.append("π* \(String(format: "%.2g", worst / Double.ulpOfOne))")
        return parts.joined(separator: ", ")
    }
}
