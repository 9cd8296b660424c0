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

    /// How the passes use the machine, for logs: threads, cores and shards a pass.
    public static var description: String {
        "\(workers) threads on \(ProcessInfo.processInfo.activeProcessorCount) cores, \(shardsPerPass) batch shards a pass"
    }

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

    /// The batch shards a pass splits into (fewer when it has fewer rows): a constant, not the
    /// number of cores, because the shards fix the order in which the gradients' partial sums
    /// are added; so a pass gives the same bits on any machine with the same kernels. Eight keeps
    /// up to eight cores busy and, on two cores, costs little over two shards (each shard still
    /// multiplies several rows of positions at a time); see ARCHITECTURE.md for the measured
    /// per-shard times and the expected scaling. Changing it changes the bits of every pass, so
    /// it is part of the pretraining cache key (`PretrainSettings.json`).
    public static let shardsPerPass = 8

    /// The batch shards of a forward or backward pass over B rows: `shardsPerPass` contiguous
    /// runs of rows (sizes differing by at most one), or B shards of one row when B is smaller.
    /// Data parallelism: each shard runs the whole pass on its rows with serial kernels, so the
    /// cores meet once a pass instead of once a kernel. The split depends on B only, never on
    /// the number of cores; the gradients of the shards are added in shard order.
    static func shards(B: Int) -> [Range<Int>] {
        let k = max(1, min(B, shardsPerPass))
        return (0..<k).map { (B * $0 / k)..<(B * ($0 + 1) / k) }
    }

    /// Calls `body(index, rows)` once for each shard, which runs serial kernels: on up to
    /// `workers` threads at once, each taking the next shard not yet taken until none is left.
    /// A core that is slowed (another process on it) so takes fewer shards instead of holding
    /// the pass back, and more cores than shards stay idle in passes. Which thread runs a shard
    /// never changes what it computes, so a pass gives the same bits on any number of cores.
    static func forShards(_ shards: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { shardClock.add(DispatchTime.now().uptimeNanoseconds - start) }
        let k = min(workers, shards.count)
        guard k > 1 else {
            for (i, rows) in shards.enumerated() { body(i, rows) }
            return
        }
        let queue = WorkQueue(count: shards.count)
        withoutActuallyEscaping(body) { escaping in
            let box = UncheckedSendable(escaping)
            DispatchQueue.concurrentPerform(iterations: k) { _ in
                while let i = queue.next() { box.value(i, shards[i]) }
            }
        }
    }

    /// Wall seconds spent in the passes' batch shards (`forShards`) since the process started,
    /// all threads' passes together: the rest of a training loop's time is work the shards do
    /// not split (`tinylm pretrain` prints its share).
    public static var secondsInShards: Double { Double(shardClock.nanoseconds) / 1e9 }

    static let shardClock = Clock()

    /// A total of nanoseconds that any thread may add to.
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var total: UInt64 = 0
        func add(_ ns: UInt64) { lock.lock(); total += ns; lock.unlock() }
        var nanoseconds: UInt64 { lock.lock(); defer { lock.unlock() }; return total }
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

/// Indices 0..<count handed out in order to whichever worker asks first (each index once).
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = 0
    let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }
}

/// Hands a value to concurrent workers; the callers guarantee they touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
