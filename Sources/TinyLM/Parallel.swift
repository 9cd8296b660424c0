import Dispatch
import Foundation
import GSL

/// Our own split of the work across the cores, with OpenBLAS single-threaded meanwhile.
///
/// Small matrix products (attention's per-head products, a sampling step's 64-row products)
/// gain little from OpenBLAS's threads and pay for their hand-offs; splitting rows (or batch
/// entries) into one contiguous chunk a core and calling single-threaded sgemm in each is
/// faster, and it parallelises the element-wise kernels too. Each output element is computed by
/// exactly one worker, in the same order as a serial run, so results do not depend on timing.
public enum Parallel {
    /// The most workers `TINYLM_THREADS` may ask for.
    public static let maximumWorkers = 1024

    /// Workers: `$TINYLM_THREADS` if it is a whole number from 1 to `maximumWorkers`, else the
    /// number of active processors.
    public static let workers: Int = {
        if let s = ProcessInfo.processInfo.environment["TINYLM_THREADS"], let n = Int(s), (1...maximumWorkers).contains(n) { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on contiguous chunks of 0..<n, one a worker, concurrently (serially when a
    /// chunk would be smaller than `minimum`).
    static func forChunks(_ n: Int, minimum: Int = 1, _ body: (Range<Int>) -> Void) {
        forChunksIndexed(n, minimum: minimum) { _, r in body(r) }
    }

    /// As `forChunks`, also passing the chunk's index (below `workers`).
    static func forChunksIndexed(_ n: Int, minimum: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let k = min(workers, n / max(minimum, 1))
        if k <= 1 {
            if n > 0 { body(0, 0..<n) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            let box = UncheckedSendable(escaping)
            DispatchQueue.concurrentPerform(iterations: k) { i in box.value(i, (n * i / k)..<(n * (i + 1) / k)) }
        }
    }

    /// The batch shards of a forward or backward pass over B rows: two halves of
    /// the rows when B >= 2, else one shard. Data parallelism: each shard runs
    /// the whole pass on its rows with serial kernels, one core each, so the cores meet once a
    /// pass instead of once a kernel. The split depends on B only, never on the number of
    /// cores, so results are the same on any machine with the same BLAS kernels; only the
    /// gradients' summation order differs from a one-shard pass (the shards' partial sums
    /// are added in shard order).
    static func shards(B: Int) -> [Range<Int>] {
        let k = B >= 2 ? 2 : 1
        return (0..<k).map { (B * $0 / k)..<(B * ($0 + 1) / k) }
    }

    /// Calls `body(index, rows)` for each shard, which runs serial kernels: concurrently, one
    /// core a shard, when there are at least as many workers as shards, else one shard after
    /// the other. The kernels never split further, so a pass gives the same bits on any number
    /// of cores (cores beyond the shards' stay idle in passes, and a pass of a single row runs on
    /// one core).
    static func forShards(_ shards: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        guard shards.count > 1, workers >= shards.count else {
            for (i, rows) in shards.enumerated() { body(i, rows) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            let box = UncheckedSendable(escaping)
            DispatchQueue.concurrentPerform(iterations: shards.count) { i in box.value(i, shards[i]) }
        }
    }

    /// Runs `body` with OpenBLAS at one thread (restored after), on any number of workers: the
    /// passes' bits must not depend on `OPENBLAS_NUM_THREADS` (with one worker too, since
    /// OpenBLAS's threaded sgemm sums in another order). The OpenBLAS setting is process-wide:
    /// do not run passes of two models at once from different threads while relying on
    /// OpenBLAS's own threads elsewhere.
    static func withOwnThreads<R>(_ body: () -> R) -> R {
        let saved = BLAS.threadCount
        if saved != 1 { BLAS.setThreadCount(1) }
        defer { if saved != 1 { BLAS.setThreadCount(saved) } }
        return body()
    }
}

/// Hands a value to concurrent workers; the callers guarantee they touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

// Parallel variants of the kernels: the same reference kernels, called on disjoint chunks.
extension Kernels {
    /// `matmulForward` split over the N rows.
    public static func matmulForwardParallel(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
    ) {
        Parallel.forChunks(N, minimum: 8) { r in
            matmulForward(out: out + r.lowerBound * OC, inp: inp + r.lowerBound * C, weight: weight, bias: bias,
                          N: r.count, C: C, OC: OC)
        }
    }

    /// `matmulBackward` in two phases: dinp split over the N rows, then dweight and dbias split
    /// over the OC output channels (each worker owns a block of dweight's rows).
    public static func matmulBackwardParallel(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
    ) {
        if let dinp {
            Parallel.forChunks(N, minimum: 8) { r in
                BLAS.sgemm(transA: false, transB: false, m: r.count, n: C, k: OC, alpha: 1, a: dout + r.lowerBound * OC, lda: OC,
                           b: weight, ldb: C, beta: 1, c: dinp + r.lowerBound * C, ldc: C)
            }
        }
        Parallel.forChunks(OC, minimum: 8) { r in
            // dweight[r] += dout[:, r]^T inp
            BLAS.sgemm(transA: true, transB: false, m: r.count, n: C, k: N, alpha: 1, a: dout + r.lowerBound, lda: OC,
                       b: inp, ldb: C, beta: 1, c: dweight + r.lowerBound * C, ldc: C)
            if let dbias {
                for n in 0..<N {
                    let dout_n = dout + n * OC
                    for o in r { dbias[o] += dout_n[o] }
                }
            }
        }
    }

    /// `layerNormForwardSIMD` split over the N rows.
    public static func layerNormForwardParallel(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, N: Int, C: Int
    ) {
        Parallel.forChunks(N, minimum: 16) { r in
            let o = r.lowerBound
            layerNormForwardSIMD(out: out + o * C, mean: mean + o, rstd: rstd + o, inp: inp + o * C, weight: weight, bias: bias,
                             N: r.count, C: C)
        }
    }

    /// `layerNormBackwardSIMD` split over the N rows; each worker sums its dweight and dbias in its
    /// own buffer, added to the shared ones afterwards in worker order.
    public static func layerNormBackwardParallel(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
    ) {
        let k = Parallel.workers
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: 2 * C * k)
        partial.initialize(repeating: 0, count: 2 * C * k)
        defer { partial.deallocate() }
        Parallel.forChunksIndexed(N, minimum: 16) { w, r in
            let o = r.lowerBound
            layerNormBackwardSIMD(dinp: dinp + o * C, dweight: partial + 2 * C * w, dbias: partial + 2 * C * w + C,
                              dout: dout + o * C, inp: inp + o * C, weight: weight, mean: mean + o, rstd: rstd + o,
                              N: r.count, C: C)
        }
        for w in 0..<k {
            for i in 0..<C {
                dweight[i] += partial[2 * C * w + i]
                dbias[i] += partial[2 * C * w + C + i]
            }
        }
    }

    /// `geluForwardSIMD` split over the elements.
    public static func geluForwardParallel(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        Parallel.forChunks(N, minimum: 4096) { r in geluForwardSIMD(out: out + r.lowerBound, inp: inp + r.lowerBound, N: r.count) }
    }

    /// `geluBackwardSIMD` split over the elements.
    public static func geluBackwardParallel(
        dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int
    ) {
        Parallel.forChunks(N, minimum: 4096) { r in
            geluBackwardSIMD(dinp: dinp + r.lowerBound, inp: inp + r.lowerBound, dout: dout + r.lowerBound, N: r.count)
        }
    }

    /// `attentionForward` split over the B batch entries.
    public static func attentionForwardParallel(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int
    ) {
        Parallel.forChunks(B) { r in
            let b = r.lowerBound
            attentionForward(out: out + b * T * C, att: att + b * NH * T * T, inp: inp + b * T * 3 * C, B: r.count, T: T, C: C, NH: NH)
        }
    }

    /// `attentionBackward` split over the B batch entries.
    public static func attentionBackwardParallel(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        inp: UnsafePointer<Float>, att: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int
    ) {
        Parallel.forChunks(B) { r in
            let b = r.lowerBound
            attentionBackward(dinp: dinp + b * T * 3 * C, dout: dout + b * T * C, inp: inp + b * T * 3 * C,
                              att: att + b * NH * T * T, B: r.count, T: T, C: C, NH: NH)
        }
    }

    /// `logProbForward` split over the N rows.
    public static func logProbForwardParallel(
        probs: UnsafeMutablePointer<Float>, logprobs: UnsafeMutablePointer<Float>,
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
    ) {
        Parallel.forChunks(N, minimum: 16) { r in
            let o = r.lowerBound
            logProbForward(probs: probs + o * V, logprobs: logprobs + o, logits: logits + o * V, targets: targets + o, N: r.count, V: V)
        }
    }

    /// `logProbBackward` split over the N rows.
    public static func logProbBackwardParallel(
        dlogits: UnsafeMutablePointer<Float>, dlogprobs: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
    ) {
        Parallel.forChunks(N, minimum: 16) { r in
            let o = r.lowerBound
            logProbBackward(dlogits: dlogits + o * V, dlogprobs: dlogprobs + o, probs: probs + o * V, targets: targets + o, N: r.count, V: V)
        }
    }

    /// `residualForward` split over the elements.
    public static func residualForwardParallel(
        out: UnsafeMutablePointer<Float>, inp1: UnsafePointer<Float>, inp2: UnsafePointer<Float>, N: Int
    ) {
        Parallel.forChunks(N, minimum: 8192) { r in
            residualForward(out: out + r.lowerBound, inp1: inp1 + r.lowerBound, inp2: inp2 + r.lowerBound, N: r.count)
        }
    }
}
