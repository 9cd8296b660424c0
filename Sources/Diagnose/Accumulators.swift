#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streaming sums that stay accurate over 10^7 terms in constant memory.

/// Σ x_i by Neumaier's compensated summation: the rounding error of each addition is kept in
/// `compensation` and added back at the end, so the error of the total is about 2ε Σ|x_i|
/// whatever the number of terms (plain summation: n ε Σ|x_i|).
public struct CompensatedSum: Sendable {
    public private(set) var sum = 0.0
    public private(set) var compensation = 0.0
    public init() {}

    @inline(__always)
    public mutating func add(_ x: Double) {
        let t = sum + x
        if Swift.abs(sum) >= Swift.abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }

    /// Adds `other` taken `times` times (a bootstrap multiplicity).
    @inline(__always)
    public mutating func add(_ other: CompensatedSum, times k: Double) {
        add(k * other.sum)
        compensation += k * other.compensation
    }

    public var value: Double { sum + compensation }
}

/// log Σ_i exp(v_i), streamed: keeps the largest value m seen and s = Σ_i exp(v_i - m), so no
/// term overflows; when a larger value arrives, s is rescaled by exp(m_old - m_new).
/// The relative error of s is about n ε (each term in (0, 1]).
public struct LogSumExp: Sendable {
    public private(set) var maximum = -Double.infinity
    public private(set) var scaledSum = 0.0
    public init() {}

    @inline(__always)
    public mutating func add(_ v: Double) {
        if v <= maximum {
            scaledSum += exp(v - maximum)
        } else {
            scaledSum = scaledSum * exp(maximum - v) + 1
            maximum = v
        }
    }

    /// Adds every term of `other`, each taken `times` times.
    @inline(__always)
    public mutating func add(_ other: LogSumExp, times k: Double) {
        guard other.scaledSum > 0, k > 0 else { return }
        if other.maximum <= maximum {
            scaledSum += k * other.scaledSum * exp(other.maximum - maximum)
        } else {
            scaledSum = scaledSum * exp(maximum - other.maximum) + k * other.scaledSum
            maximum = other.maximum
        }
    }

    /// log Σ exp(v_i); -∞ when empty.
    public var value: Double { scaledSum > 0 ? maximum + log(scaledSum) : -.infinity }
}

/// The `capacity` largest values of a stream, in a binary min-heap: a value below the smallest
/// kept one is rejected with one comparison, so the cost per value is O(1) almost always.
public struct LargestValues: Sendable {
    public let capacity: Int
    public private(set) var heap: [Double] = []
    public init(capacity: Int) { self.capacity = capacity; heap.reserveCapacity(capacity) }

    @inline(__always)
    public mutating func add(_ v: Double) {
        if heap.count < capacity {
            heap.append(v)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                if heap[parent] <= heap[i] { break }
                heap.swapAt(parent, i); i = parent
            }
        } else if v > heap[0] {
            heap[0] = v
            var i = 0
            let n = heap.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < n && heap[l] < heap[smallest] { smallest = l }
                if r < n && heap[r] < heap[smallest] { smallest = r }
                if smallest == i { break }
                heap.swapAt(smallest, i); i = smallest
            }
        }
    }

    /// The kept values, largest first.
    public var descending: [Double] { heap.sorted(by: >) }
}
