import Foundation

/// AdamW as PyTorch's `torch.optim.AdamW` (decoupled weight decay, bias-corrected moments),
/// with weight decay on matrices only (nanoGPT's `configure_optimizers`: every tensor of two
/// or more dimensions decays; biases and LayerNorm parameters do not).
public final class AdamW {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// First and second moments, laid out like the parameters.
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Steps taken so far (the bias correction uses step + 1 for the next one).
    public var step: Int = 0
    /// 1 where the parameter decays, 0 where it does not.
    private let decayMask: [Bool]
    private let ranges: [Range<Int>]

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = FloatBuffer(count: layout.count)
        v = FloatBuffer(count: layout.count)
        ranges = layout.specs.map { $0.offset..<($0.offset + $0.count) }
        decayMask = layout.specs.map(\.isMatrix)
    }

    /// One update of `model.parameters` from `model.gradients` at learning rate `lr`:
    /// p <- p (1 - lr wd) - lr mhat / (sqrt(vhat) + eps).
    public func update(_ model: GPT, learningRate lr: Float) {
        step += 1
        let b1c = 1 - powf(beta1, Float(step)), b2c = 1 - powf(beta2, Float(step))
        let beta1 = self.beta1, beta2 = self.beta2, eps = self.eps
        let p = model.parameters.pointer, g = model.gradients.pointer
        let mp = m.pointer, vp = v.pointer
        let segments = zip(ranges, decayMask).map { ($0, $1 ? 1 - lr * weightDecay : Float(1)) }
        // One split of all the parameters across the cores (each element's update is its own,
        // so the split does not change the bits), not one split a tensor: most tensors are too
        // small to be worth one.
        Parallel.forChunks(m.count, minimum: 16384) { chunk in
            for (range, shrink) in segments {
                let lo = max(range.lowerBound, chunk.lowerBound), hi = min(range.upperBound, chunk.upperBound)
                guard lo < hi else { continue }
                for i in lo..<hi {
                    let gi = g[i]
                    let mi = beta1 * mp[i] + (1 - beta1) * gi
                    let vi = beta2 * vp[i] + (1 - beta2) * gi * gi
                    mp[i] = mi
                    vp[i] = vi
                    p[i] = p[i] * shrink - lr * (mi / b1c) / ((vi / b2c).squareRoot() + eps)
                }
            }
        }
    }
}

/// Scales the gradients so that their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`: factor maxNorm / (norm + 1e-6) when that is below 1). Returns the norm
/// before clipping.
@discardableResult
public func clipGradientNorm(_ model: GPT, maxNorm: Double) -> Double {
    let norm = model.gradientNorm()
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 {
        let f = Float(factor), g = model.gradients.pointer
        Parallel.forChunks(model.gradients.count, minimum: 16384) { r in
            for i in r { g[i] *= f }
        }
    }
    return norm
}

/// nanoGPT's learning-rate schedule: linear warm-up over `warmupSteps`, cosine decay to
/// `minLR` at `decaySteps`, then constant `minLR`.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var maxLR: Double
    public var minLR: Double
    public var warmupSteps: Int
    public var decaySteps: Int

    public init(maxLR: Double, minLR: Double, warmupSteps: Int, decaySteps: Int) {
        self.maxLR = maxLR
        self.minLR = minLR
        self.warmupSteps = warmupSteps
        self.decaySteps = decaySteps
    }

    /// The rate at iteration `it` (0-based), as nanoGPT's `get_lr(it)`.
    public func rate(at it: Int) -> Double {
        if it < warmupSteps { return maxLR * Double(it + 1) / Double(warmupSteps + 1) }
        if it > decaySteps { return minLR }
        let ratio = Double(it - warmupSteps) / Double(max(decaySteps - warmupSteps, 1))
        let coeff = 0.5 * (1 + cos(Double.pi * ratio))
        return minLR + coeff * (maxLR - minLR)
    }
}
