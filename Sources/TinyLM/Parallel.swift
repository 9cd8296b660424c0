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
