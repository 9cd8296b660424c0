import Dispatch

/// The six exact quantities of chapters 3-5 in one call, over raw arrays: log Z, π*, KL(π ‖ π0),
/// KL(π ‖ π*), H(π) and J_KLRL(π), for a prior, a reward, a policy and a temperature.
///
///     log Z        = log Σ_x exp(log π0(x) + r(x)/β)
///     π*(x)        = exp(log π0(x) + r(x)/β − log Z)
///     KL(π ‖ π0)   = Σ_x π(x) (log π(x) − log π0(x))
///     KL(π ‖ π*)   = Σ_x π(x) (log π(x) − log π0(x) − r(x)/β) + log Z
///     H(π)         = −Σ_x π(x) log π(x)
///     J_KLRL(π)    = Σ_x π(x) r(x) − β KL(π ‖ π0)
///
/// `summary` is the readable reference: one loop per quantity, libm's exp, plain sums.
/// `summaryFused` is the fast variant (the benchmark's subject): three passes instead of about
/// fifteen, a vectorised exp on eight Doubles, blocked sums with compensated (Neumaier) block
/// totals in every lane, and the outcomes split across the cores.
public enum ExactKernels {
    public struct Summary: Sendable, Equatable {
        public var logPartitionFunction = 0.0
        public var klToPrior = 0.0
        public var klToPosterior = 0.0
        public var entropy = 0.0
        public var objective = 0.0
        public init() {}
    }

    /// The readable reference. `policy` is π (= exp(logPolicy), passed in as numpy's benchmark
    /// passes it); `posterior` receives π*.
    public static func summary(logPrior: [Double], reward: [Double], logPolicy: [Double], policy: [Double], beta: Double,
                               posterior: inout [Double]) -> Summary {
        let n = logPrior.count
        var s = Summary()
        let a = (0..<n).map { logPrior[$0] + reward[$0] / beta }
        s.logPartitionFunction = LogSpace.logSumExp(a)
        for x in 0..<n { posterior[x] = expOf(a[x] - s.logPartitionFunction) }
        for x in 0..<n where policy[x] > 0 { s.klToPrior += policy[x] * (logPolicy[x] - logPrior[x]) }
        for x in 0..<n where policy[x] > 0 { s.klToPosterior += policy[x] * (logPolicy[x] - a[x]) }
        s.klToPosterior += s.logPartitionFunction
        for x in 0..<n where policy[x] > 0 { s.entropy -= policy[x] * logPolicy[x] }
        var expected = 0.0
        for x in 0..<n where policy[x] > 0 { expected += policy[x] * reward[x] }
        s.objective = expected - beta * s.klToPrior
        return s
    }

    // MARK: - The fused variant

    /// Per-chunk partial results of the first pass.
    struct Partial {
        var max = -Double.infinity
        var klPrior = Compensated(), klJoint = Compensated(), entropy = Compensated(), reward = Compensated()
        var expSum = Compensated()
    }

    /// The fused variant: pass 1 writes a = log π0 + r/β into `posterior`, finds max a and
    /// accumulates the four π-weighted sums (none needs log Z); pass 2 replaces a by e^{a − max}
    /// and sums it; pass 3 divides by the sum. Chunks of the outcomes run on `threads` cores.
    ///
    /// Accuracy: exp within 2 ulp (degree-13 Taylor polynomial on |f| ≤ ln 2 / 2 after Cody-Waite
    /// reduction); the sums blocked and compensated, so the results agree with a long-double reference to a
    /// few tens of ulp of the sum of absolute terms (plain sums of 16 terms a lane inside blocks of
    /// 128 outcomes, compensated sums of the block totals). Terms with π(x) = 0 contribute 0, as
    /// in the reference.
    public static func summaryFused(logPrior: UnsafeBufferPointer<Double>, reward: UnsafeBufferPointer<Double>,
                                    logPolicy: UnsafeBufferPointer<Double>, policy: UnsafeBufferPointer<Double>, beta: Double,
                                    posterior: UnsafeMutableBufferPointer<Double>, threads: Int = 2) -> Summary {
        let n = logPrior.count
        let chunks = n >= 200_000 ? max(1, threads) : 1
        let size = (n + chunks - 1) / chunks
        let inverseBeta = 1 / beta
        var partials = [Partial](repeating: Partial(), count: chunks)
        let out = posterior.baseAddress!
        partials.withUnsafeMutableBufferPointer { parts in
            let io = KernelPointers(logPrior: logPrior, reward: reward, logPolicy: logPolicy, policy: policy, out: out, parts: parts.baseAddress!)
            forChunks(chunks, size: size, n: n) { c, lo, hi in
                io.parts[c] = firstPass(io.logPrior, io.reward, io.logPolicy, io.policy, inverseBeta, io.out, lo, hi)
            }
            let m = parts.map(\.max).max()!
            forChunks(chunks, size: size, n: n) { c, lo, hi in io.parts[c].expSum = exponentiate(io.out, m, lo, hi) }
        }
        let m = partials.map(\.max).max()!
        var total = Compensated(), klPrior = Compensated(), klJoint = Compensated(), entropy = Compensated(), expected = Compensated()
        for p in partials {
            total.add(p.expSum.value); klPrior.add(p.klPrior.value); klJoint.add(p.klJoint.value)
            entropy.add(p.entropy.value); expected.add(p.reward.value)
        }
        let scale = 1 / total.value
        let io = KernelPointers(logPrior: logPrior, reward: reward, logPolicy: logPolicy, policy: policy, out: out, parts: nil)
        forChunks(chunks, size: size, n: n) { _, lo, hi in
            for x in lo..<hi { io.out[x] *= scale }
        }
        var s = Summary()
        s.logPartitionFunction = m + logOf(total.value)
        s.klToPrior = klPrior.value
        s.klToPosterior = klJoint.value + s.logPartitionFunction
        s.entropy = -entropy.value
        s.objective = expected.value - beta * s.klToPrior
        return s
    }

    static func firstPass(_ logPrior: UnsafeBufferPointer<Double>, _ reward: UnsafeBufferPointer<Double>,
                          _ logPolicy: UnsafeBufferPointer<Double>, _ policy: UnsafeBufferPointer<Double>, _ inverseBeta: Double,
                          _ out: UnsafeMutablePointer<Double>, _ lo: Int, _ hi: Int) -> Partial {
        typealias V = SIMD8<Double>
        var vMax = V(repeating: -.infinity)
        var klPrior = CompensatedLanes(), klJoint = CompensatedLanes(), entropy = CompensatedLanes(), expected = CompensatedLanes()
        let lp0 = logPrior.baseAddress!, rw = reward.baseAddress!, lpi = logPolicy.baseAddress!, pi = policy.baseAddress!
        let zero = V(repeating: 0)
        var x = lo
        // Blocks of 16 vectors (128 outcomes): plain sums inside a block (16 terms a lane, error at
        // most 16ε of the block's terms), then each block total added to the compensated lanes.
        while x + 8 <= hi {
            var bPrior = zero, bJoint = zero, bEntropy = zero, bReward = zero
            let blockEnd = min(hi, x + 128)
            while x + 8 <= blockEnd {
                let l0 = load(lp0 + x), r = load(rw + x), l = load(lpi + x), p = load(pi + x)
                let a = l0 + r * inverseBeta
                store(a, out + x)
                vMax = pointwiseMax(vMax, a)
                // π log π is 0 where π = 0 even when log π = −∞: mask those lanes.
                let live = p .> 0
                bPrior += zero.replacing(with: p * (l - l0), where: live)
                bJoint += zero.replacing(with: p * (l - a), where: live)
                bEntropy += zero.replacing(with: p * l, where: live)
                bReward += zero.replacing(with: p * r, where: live)
                x += 8
            }
            klPrior.add(bPrior); klJoint.add(bJoint); entropy.add(bEntropy); expected.add(bReward)
        }
        var part = Partial()
        part.max = vMax.max()
        part.klPrior = klPrior.total(); part.klJoint = klJoint.total(); part.entropy = entropy.total(); part.reward = expected.total()
        while x < hi {   // the tail, one outcome at a time
            let a = lp0[x] + rw[x] * inverseBeta
            out[x] = a
            part.max = max(part.max, a)
            if pi[x] > 0 {
                part.klPrior.add(pi[x] * (lpi[x] - lp0[x])); part.klJoint.add(pi[x] * (lpi[x] - a))
                part.entropy.add(pi[x] * lpi[x]); part.reward.add(pi[x] * rw[x])
            }
            x += 1
        }
        return part
    }

    static func exponentiate(_ out: UnsafeMutablePointer<Double>, _ m: Double, _ lo: Int, _ hi: Int) -> Compensated {
        var sum = CompensatedLanes()
        let vm = SIMD8<Double>(repeating: m)
        var x = lo
        while x + 8 <= hi {   // blocks of 128 outcomes, as in the first pass
            var block = SIMD8<Double>(repeating: 0)
            let blockEnd = min(hi, x + 128)
            while x + 8 <= blockEnd {
                let e = VectorExp.exp(load(out + x) - vm)
                store(e, out + x)
                block += e
                x += 8
            }
            sum.add(block)
        }
        var total = sum.total()
        while x < hi { out[x] = expOf(out[x] - m); total.add(out[x]); x += 1 }
        return total
    }

    /// Runs `body(chunk, lo, hi)` on `chunks` contiguous pieces of 0..<n, concurrently when there
    /// are several.
    static func forChunks(_ chunks: Int, size: Int, n: Int, _ body: @Sendable (Int, Int, Int) -> Void) {
        if chunks == 1 { body(0, 0, n); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size, hi = min(n, lo + size)
            if lo < hi { body(c, lo, hi) }
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
    }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>) -> SIMD8<Double> { load(UnsafePointer(p)) }
    @inline(__always) static func store(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
    }
}

/// The raw buffers of one fused-kernel call, shared by its worker chunks. Each chunk reads its
/// own range of the inputs and writes only its own range of `out` and its own slot of `parts`,
/// so no two workers touch the same memory.
struct KernelPointers: @unchecked Sendable {
    let logPrior: UnsafeBufferPointer<Double>
    let reward: UnsafeBufferPointer<Double>
    let logPolicy: UnsafeBufferPointer<Double>
    let policy: UnsafeBufferPointer<Double>
    let out: UnsafeMutablePointer<Double>
    let parts: UnsafeMutablePointer<ExactKernels.Partial>!
}
