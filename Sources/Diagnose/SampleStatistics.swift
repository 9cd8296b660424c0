#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GSL

/// The sums from which every sample-mode estimate is computed, for one group of policy samples
/// x_i ~ π with log-ratio ℓ_i = log π0(x_i) - log π(x_i) and importance log-weight
/// log w_i = r(x_i)/β + ℓ_i = log[π0(x_i) e^{r(x_i)/β} / π(x_i)].
public struct PolicyGroup: Sendable {
    public var count = 0.0
    /// Σ r_i.
    public var reward = CompensatedSum()
    /// Σ (-ℓ_i): the k1 estimator of KL(π ‖ π0) summed.
    public var k1 = CompensatedSum()
    /// Σ (e^{ℓ_i} - 1 - ℓ_i): the k3 estimator (Schulman, 2020) summed; each term ≥ 0.
    public var k3 = CompensatedSum()
    /// Σ log w_i: the ELBO summed.
    public var elbo = CompensatedSum()
    /// log Σ w_i and log Σ w_i².
    public var logWeight = LogSumExp()
    public var logWeightSquared = LogSumExp()
    public init() {}

    @inline(__always)
    public mutating func add(logRatio l: Double, reward r: Double, beta: Double) {
        let lw = r / beta + l
        count += 1
        reward.add(r)
        k1.add(-l)
        k3.add(PolicyGroup.k3Term(l))
        elbo.add(lw)
        logWeight.add(lw)
        logWeightSquared.add(2 * lw)
    }

    /// e^ℓ - 1 - ℓ, accurate to a few ulps: for |ℓ| < 0.01 by its Taylor series
    /// ℓ²(1/2 + ℓ/6 + ℓ²/24 + ...) (the subtraction would lose log10(2/|ℓ|) digits), the first
    /// omitted term being below 5e-15 relative; otherwise as expm1(ℓ) - ℓ.
    @inline(__always)
    public static func k3Term(_ l: Double) -> Double {
        if Swift.abs(l) < 0.01 {
            return l * l * (1.0 / 2 + l * (1.0 / 6 + l * (1.0 / 24 + l * (1.0 / 120 + l * (1.0 / 720 + l / 5040)))))
        }
        return expm1(l) - l
    }

    /// Adds `other` taken `times` times.
    public mutating func add(_ other: PolicyGroup, times k: Double) {
        count += k * other.count
        reward.add(other.reward, times: k); k1.add(other.k1, times: k); k3.add(other.k3, times: k)
        elbo.add(other.elbo, times: k)
        logWeight.add(other.logWeight, times: k); logWeightSquared.add(other.logWeightSquared, times: k)
    }
}

/// The same for samples y_j ~ π0 of the reference: Σ e^{r(y_j)/β} estimates Z directly.
public struct ReferenceGroup: Sendable {
    public var count = 0.0
    public var logWeight = LogSumExp()
    public var logWeightSquared = LogSumExp()
    public init() {}

    @inline(__always)
    public mutating func add(reward r: Double, beta: Double) {
        count += 1
        logWeight.add(r / beta)
        logWeightSquared.add(2 * r / beta)
    }

    public mutating func add(_ other: ReferenceGroup, times k: Double) {
        count += k * other.count
        logWeight.add(other.logWeight, times: k); logWeightSquared.add(other.logWeightSquared, times: k)
    }
}

/// Groups of samples, for a bootstrap in bounded memory.
///
/// The first `groupCount` samples go to groups 0, 1, 2, ... in turn; every later sample goes
/// to a group drawn uniformly at random (seeded). Up to `groupCount` samples the groups are the
/// samples themselves and resampling groups is the ordinary bootstrap; beyond, each group is a
/// random subset, the groups are exchangeable, and resampling them with replacement is the
/// bootstrap of group totals, which gives the same intervals for smooth functions of means
/// (every estimate here is one) while memory stays at `groupCount` groups whatever the number
/// of samples. Random (not round-robin) assignment keeps a file sorted by reward from giving
/// groups that are all alike, which would shrink the intervals.
public struct GroupedSamples<Group: Sendable>: Sendable {
    public var groups: [Group]
    public private(set) var samples = 0
    let makeGroup: @Sendable () -> Group

    public init(groupCount: Int, _ makeGroup: @escaping @Sendable () -> Group) {
        self.makeGroup = makeGroup
        groups = []
        groups.reserveCapacity(groupCount)
        capacity = groupCount
    }
    let capacity: Int

    /// The group the next sample goes to (creating it while fewer than `groupCount` exist).
    @inline(__always)
    public mutating func nextIndex(_ rng: RandomGenerator) -> Int {
        samples += 1
        if groups.count < capacity { groups.append(makeGroup()); return groups.count - 1 }
        return rng.uniformInt(below: capacity)
    }

    /// The sum of all groups, or of groups weighted by bootstrap multiplicities.
    public func total(_ add: (inout Group, Group, Double) -> Void, multiplicities: [Double]? = nil) -> Group {
        var t = makeGroup()
        for k in groups.indices {
            let times = multiplicities?[k] ?? 1
            if times > 0 { add(&t, groups[k], times) }
        }
        return t
    }
}
