import GSL
import TinyLM

/// A thin seeded source for test data.
struct RandomGeneratorForTests {
    let rng: RandomGenerator
    init(seed: UInt64) { rng = RandomGenerator(seed: seed) }
    func gaussian(_ sigma: Double = 1) -> Double { rng.gaussian(sigma: sigma) }
    func floats(_ n: Int, sigma: Double = 1) -> [Float] { (0..<n).map { _ in Float(rng.gaussian(sigma: sigma)) } }
    func doubles(_ n: Int, sigma: Double = 1) -> [Double] { (0..<n).map { _ in rng.gaussian(sigma: sigma) } }
    func int(below n: Int) -> Int { rng.uniformInt(below: n) }
}

/// Central finite difference of f at x along coordinate i, in Double.
func finiteDifference(_ f: ([Double]) -> Double, at x: [Double], coordinate i: Int, h: Double = 1e-5) -> Double {
    var xp = x, xm = x
    xp[i] += h
    xm[i] -= h
    return (f(xp) - f(xm)) / (2 * h)
}

/// The largest |a - b| / (|b| + floor) over two arrays.
func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double) -> Double {
    zip(a, b).map { abs($0 - $1) / (abs($1) + floor) }.max() ?? 0
}
