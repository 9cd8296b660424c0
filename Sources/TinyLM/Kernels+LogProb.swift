import Foundation

extension Kernels {
    /// Softmax of the logits and the log-probability of each target token:
    /// probs[b,t,:] = softmax(logits[b,t,:]); logprobs[b,t] = log probs[b,t,targets[b,t]],
    /// or 0 where the target is negative (padding, ignored as nanoGPT's ignore_index = -1).
    ///
    /// probs (B,T,V), logprobs (B,T), logits (B,T,V), targets (B,T); N = B*T rows.
    static func logProbForward(
        probs: UnsafeMutablePointer<Float>, logprobs: UnsafeMutablePointer<Float>,
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
    ) {
        for n in 0..<N {
            let logits_n = logits + n * V
            let probs_n = probs + n * V
            var maxval = -Float.greatestFiniteMagnitude
            for i in 0..<V where logits_n[i] > maxval { maxval = logits_n[i] }
            var sum: Float = 0
            for i in 0..<V {
                let e = expf(logits_n[i] - maxval)
                probs_n[i] = e
                sum += e
            }
            let inv = 1 / sum
            for i in 0..<V { probs_n[i] *= inv }
            let ix = Int(targets[n])
            // log p = logit - logsumexp, computed from the logits (not log of a rounded prob)
            logprobs[n] = ix < 0 ? 0 : logits_n[ix] - maxval - logf(sum)
        }
    }

    /// Differentiates `logprob = logits[y] - logsumexp(logits)`:
    /// dlogits[i] += dlogprob * (1[i == y] - probs[i]); rows with a negative target get nothing.
    ///
    /// dlogits (B,T,V), dlogprobs (B,T), probs (B,T,V), targets (B,T).
    static func logProbBackward(
        dlogits: UnsafeMutablePointer<Float>, dlogprobs: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
    ) {
        for n in 0..<N {
            let ix = Int(targets[n])
            if ix < 0 { continue }
            let g = dlogprobs[n]
            if g == 0 { continue }
            let dlogits_n = dlogits + n * V
            let probs_n = probs + n * V
            for i in 0..<V { dlogits_n[i] -= g * probs_n[i] }
            dlogits_n[ix] += g
        }
    }
}
