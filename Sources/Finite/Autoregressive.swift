/// Autoregressive distributions over short sequences, enumerated exactly.
///
/// A sequence is x = (x_1, …, x_k) with 0 ≤ k ≤ L tokens from a vocabulary {0, …, V−1}. A
/// model picks each next token, or the end token V, from a table of logits indexed by the
/// prefix h = (x_1, …, x_{t−1}); after L tokens the sequence ends with certainty. So
///
///     π(x) = Π_{t=1}^{k} π(x_t | x_{<t}) · π(end | x)^{[k < L]},
///
/// and the T(x) = k + [k < L] factors are the per-token probabilities from which per-token
/// sums of estimators are formed. There are Σ_{k≤L} V^k sequences and Σ_{k<L} V^k prefixes.
///
/// Indexing: a string of length k whose tokens read as the base-V number ρ has index
/// Σ_{j<k} V^j + ρ. Prefixes (length < L) are the first P indices, so a prefix that ends
/// with the end token and the finished sequence share an index.
public final class SequenceSpace: Sendable {
    /// One step of a sequence: the prefix it extends and the token chosen (V = end).
    public struct Step: Sendable, Equatable {
        public let prefix: Int
        public let token: Int
    }

    /// V, the number of ordinary tokens; the end token is V.
    public let vocabulary: Int
    /// L, the longest sequence.
    public let maxLength: Int
    /// Σ_{j<k} V^j for k = 0 … L+1.
    let offsets: [Int]
    /// The tokens of every sequence (end token not included), by index.
    public let sequences: [[Int]]
    /// The steps of every sequence, the end step included when k < L.
    public let steps: [[Step]]

    /// All sequences of at most `maxLength` tokens from `vocabulary` tokens.
    public init(vocabulary v: Int, maxLength l: Int) {
        precondition(v >= 1 && l >= 1, "need at least one token and length one")
        vocabulary = v; maxLength = l
        var o = [0]
        var power = 1
        for _ in 0...l { o.append(o.last! + power); power *= v }
        offsets = o
        var seqs: [[Int]] = []
        var allSteps: [[Step]] = []
        for k in 0...l {
            let count = o[k + 1] - o[k]
            for rank in 0..<count {
                var tokens = [Int](repeating: 0, count: k)
                var r = rank
                for t in stride(from: k - 1, through: 0, by: -1) { tokens[t] = r % v; r /= v }
                seqs.append(tokens)
                var st: [Step] = []
                var h = 0   // the empty prefix
                for t in tokens { st.append(Step(prefix: h, token: t)); h = SequenceSpace.child(h, t, offsets: o, v: v) }
                if k < l { st.append(Step(prefix: h, token: v)) }
                allSteps.append(st)
            }
        }
        sequences = seqs
        steps = allSteps
    }

    /// The number of sequences N = Σ_{k≤L} V^k.
    public var count: Int { sequences.count }
    /// The number of prefixes P = Σ_{k<L} V^k at which a choice is made.
    public var prefixCount: Int { offsets[maxLength] }
    /// V + 1 choices at each prefix.
    public var choices: Int { vocabulary + 1 }
    /// The number of logits P (V + 1) of a tabular model.
    public var parameterCount: Int { prefixCount * choices }

    /// The length of the string with index i.
    public func length(of i: Int) -> Int { offsets.lastIndex { $0 <= i }! }

    /// The index of h followed by the ordinary token a.
    public func child(_ h: Int, _ a: Int) -> Int { SequenceSpace.child(h, a, offsets: offsets, v: vocabulary) }

    static func child(_ h: Int, _ a: Int, offsets o: [Int], v: Int) -> Int {
        let k = o.lastIndex { $0 <= h }!
        return o[k + 1] + (h - o[k]) * v + a
    }
}

/// A tabular autoregressive model on a `SequenceSpace`: one softmax over the V + 1 choices
/// at each prefix, π(a | h) = exp θ_{h,a} / Σ_b exp θ_{h,b}.
public struct AutoregressiveModel: Sendable {
    public let space: SequenceSpace
    /// V + 1, the width of one softmax.
    let choices: Int
    /// θ, flat: θ[h (V+1) + a].
    public let logits: [Double]
    /// log π(a | h), flat like θ.
    public let conditionalLogProbabilities: [Double]

    public init(space: SequenceSpace, logits: [Double]) {
        precondition(logits.count == space.parameterCount, "one logit per prefix and choice")
        self.space = space
        self.logits = logits
        let c = space.choices
        choices = c
        var lp = [Double](repeating: 0, count: logits.count)
        for h in 0..<space.prefixCount {
            let z = LogSpace.logSumExp(Array(logits[(h * c)..<((h + 1) * c)]))
            for a in 0..<c { lp[h * c + a] = logits[h * c + a] - z }
        }
        conditionalLogProbabilities = lp
    }

    /// log π(a | h).
    @inline(__always)
    public func logProbability(_ a: Int, given h: Int) -> Double { conditionalLogProbabilities[h * choices + a] }

    /// The next-token distribution π(· | h).
    public func next(_ h: Int) -> Distribution {
        let c = space.choices
        return Distribution(logWeights: Array(conditionalLogProbabilities[(h * c)..<((h + 1) * c)]))
    }

    /// log π(x_t | x_{<t}) for each step t of sequence i (the end step included).
    public func tokenLogProbabilities(_ i: Int) -> [Double] {
        let steps = space.steps[i]
        var out = [Double](repeating: 0, count: steps.count)
        for t in 0..<steps.count { out[t] = conditionalLogProbabilities[steps[t].prefix * choices + steps[t].token] }
        return out
    }

    /// log π(x) = Σ_t log π(x_t | x_{<t}) for every sequence.
    public var sequenceLogProbabilities: [Double] {
        let all = space.steps
        var out = [Double](repeating: 0, count: all.count)
        for i in 0..<all.count {
            var s = 0.0
            for step in all[i] { s += conditionalLogProbabilities[step.prefix * choices + step.token] }
            out[i] = s
        }
        return out
    }

    /// π as a distribution over the N sequences (the products of next-token probabilities;
    /// they sum to 1 up to rounding, which the caller can check before this renormalises).
    public var distribution: Distribution { Distribution(logWeights: sequenceLogProbabilities) }

    /// π(h) = Π_t π(h_t | h_{<t}), the probability that a sequence starts with prefix h,
    /// computed down the prefix tree (not from the sequence list).
    public var prefixProbabilities: [Double] {
        var p = [Double](repeating: 0, count: space.prefixCount)
        p[0] = 1
        for h in 0..<space.prefixCount {
            for a in 0..<space.vocabulary {
                let c = space.child(h, a)
                if c < space.prefixCount { p[c] = p[h] * expOf(logProbability(a, given: h)) }
            }
        }
        return p
    }

    /// Draws one sequence token by token: at each prefix, an inverse-CDF draw from π(· | h).
    /// Returns the sequence's index.
    public func sample(_ uniform: () -> Double) -> Int {
        var h = 0
        while true {
            let u = uniform()
            var cumulative = 0.0
            var chosen = space.vocabulary
            for a in 0..<space.choices {
                cumulative += expOf(logProbability(a, given: h))
                if u < cumulative { chosen = a; break }
            }
            if chosen == space.vocabulary { return h }
            h = space.child(h, chosen)
            if h >= space.prefixCount { return h }
        }
    }

    /// Adds c (e_{x_t} − π(· | h_t)) to the block of h_t in `gradient`: the gradient with
    /// respect to θ of c log π(x_t | h_t), since ∇_{θ_h} log softmax(θ_h)_a = e_a − π(· | h).
    public func addScore(step: SequenceSpace.Step, coefficient c: Double, to gradient: inout [Double]) {
        let k = space.choices
        let base = step.prefix * k
        gradient[base + step.token] += c
        for b in 0..<k { gradient[base + b] -= c * expOf(conditionalLogProbabilities[base + b]) }
    }
}

/// KL(p || q) by the chain rule over the prefix tree,
///
///     KL(p || q) = Σ_h p(h) KL(p(· | h) || q(· | h)),
///
/// a sum over the P prefixes that never lists a sequence (cross-check of the enumeration).
public func chainRuleKL(_ p: AutoregressiveModel, _ q: AutoregressiveModel) -> Double {
    let ph = p.prefixProbabilities
    var s = 0.0
    for h in 0..<p.space.prefixCount where ph[h] > 0 {
        s += ph[h] * klDivergence(p.next(h), q.next(h))
    }
    return s
}

/// The exact gradient of the reverse KL, KL(π_θ || π0), with respect to the logits θ (reverse
/// as in chapter 7 and as TRL, verl and OpenRLHF name it: the divergence from the policy,
/// whose expectation is over the policy's own samples), by the recursion
///
///     D(h) = Σ_a π(a|h) Q(h, a),  Q(h, a) = log π(a|h)/π0(a|h) + D(ha)   (D = 0 once ended),
///     ∂KL/∂θ_{h,a} = π(h) π(a|h) (Q(h, a) − D(h)),
///
/// where D(h) is the KL of the continuations of h (softmax score times the soft value).
public func gradientOfReverseKL(policy p: AutoregressiveModel, prior q: AutoregressiveModel) -> [Double] {
    let s = p.space
    let k = s.choices
    var d = [Double](repeating: 0, count: s.count)   // D of every index; 0 for finished sequences
    var qValues = [Double](repeating: 0, count: s.parameterCount)
    for h in stride(from: s.prefixCount - 1, through: 0, by: -1) {
        var dh = 0.0
        for a in 0..<k {
            let lr = p.logProbability(a, given: h) - q.logProbability(a, given: h)
            let cont = a < s.vocabulary ? d[s.child(h, a)] : 0
            qValues[h * k + a] = lr + cont
            dh += expOf(p.logProbability(a, given: h)) * (lr + cont)
        }
        d[h] = dh
    }
    let ph = p.prefixProbabilities
    var g = [Double](repeating: 0, count: s.parameterCount)
    for h in 0..<s.prefixCount {
        for a in 0..<k { g[h * k + a] = ph[h] * expOf(p.logProbability(a, given: h)) * (qValues[h * k + a] - d[h]) }
    }
    return g
}

/// The exact gradient of the forward KL, KL(π0 || π_θ) = const − E_{π0}[log π_θ], with respect to θ:
/// ∂/∂θ_{h,a} = π0(h) (π(a|h) − π0(a|h)).
public func gradientOfForwardKL(policy p: AutoregressiveModel, prior q: AutoregressiveModel) -> [Double] {
    let s = p.space
    let k = s.choices
    let qh = q.prefixProbabilities
    var g = [Double](repeating: 0, count: s.parameterCount)
    for h in 0..<s.prefixCount {
        for a in 0..<k { g[h * k + a] = qh[h] * (expOf(p.logProbability(a, given: h)) - expOf(q.logProbability(a, given: h))) }
    }
    return g
}
