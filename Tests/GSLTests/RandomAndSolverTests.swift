import Foundation
import GSL
import Testing

@Suite("GSL random numbers and solvers")
struct RandomAndSolverTests {
    @Test func sameSeedSameStream() {
        let a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let xa = (0..<100).map { _ in a.uniform() }
        let xb = (0..<100).map { _ in b.uniform() }
        let xc = (0..<100).map { _ in c.uniform() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func dirichletDrawsLieOnTheSimplex() {
        let rng = RandomGenerator(seed: 7)
        for alpha in [0.01, 0.1, 1, 10] {
            for n in [2, 10, 1000] {
                let p = rng.dirichlet(count: n, concentration: alpha)
                #expect(p.allSatisfy { $0 >= 0 && $0 <= 1 })
                #expect(abs(p.reduce(0, +) - 1) <= Double(n) * Double.ulpOfOne * 4)
            }
        }
    }

    @Test func dirichletMeanMatchesTheory() {
        // E[p_i] = alpha_i / sum(alpha); the sample mean of 20000 draws is within 5.3 standard errors.
        let rng = RandomGenerator(seed: 11)
        let alpha = [0.5, 1.0, 2.5]
        let a0 = alpha.reduce(0, +)
        let draws = 20_000
        var sum = [0.0, 0.0, 0.0]
        for _ in 0..<draws { for (i, v) in rng.dirichlet(alpha: alpha).enumerated() { sum[i] += v } }
        for i in 0..<3 {
            let m = alpha[i] / a0
            let variance = m * (1 - m) / (a0 + 1)
            #expect(abs(sum[i] / Double(draws) - m) <= 5.3 * (variance / Double(draws)).squareRoot())
        }
    }

    @Test func discreteSamplerFrequenciesPassChiSquare() throws {
        // Seeded goodness of fit at level 1e-6: a false failure has probability 1e-6.
        let weights = [1.0, 2, 3, 4, 0, 10]
        let total = weights.reduce(0, +)
        let sampler = try DiscreteSampler(weights: weights)
        let rng = RandomGenerator(seed: 3)
        let n = 60_000
        var counts = [Double](repeating: 0, count: weights.count)
        for _ in 0..<n { counts[sampler.sample(rng)] += 1 }
        #expect(counts[4] == 0)   // zero weight is never drawn
        var stat = 0.0, cells = 0
        for i in weights.indices where weights[i] > 0 {
            let e = Double(n) * weights[i] / total
            stat += (counts[i] - e) * (counts[i] - e) / e
            cells += 1
        }
        let p = try SpecialFunctions.chiSquareQ(stat, degreesOfFreedom: Double(cells - 1))
        #expect(p > 1e-6)
    }

    @Test func discreteSamplerRejectsBadWeights() {
        #expect(throws: GSLError.self) { try DiscreteSampler(weights: []) }
        #expect(throws: GSLError.self) { try DiscreteSampler(weights: [0, 0]) }
        #expect(throws: GSLError.self) { try DiscreteSampler(weights: [1, -1]) }
        #expect(throws: GSLError.self) { try DiscreteSampler(weights: [1, .nan]) }
    }

    final class Rosenbrock: DifferentiableObjective {
        let dimension = 2
        func value(at x: UnsafeBufferPointer<Double>) -> Double {
            (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0])
        }
        func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient g: UnsafeMutableBufferPointer<Double>) -> Double {
            g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0])
            g[1] = 200 * (x[1] - x[0] * x[0])
            return value(at: x)
        }
    }

    @Test func bfgsFindsTheRosenbrockMinimum() throws {
        let r = try Minimizer.minimize(Rosenbrock(), from: [-1.2, 1], gradientTolerance: 1e-8)
        #expect(r.converged)
        #expect(abs(r.x[0] - 1) < 1e-8 && abs(r.x[1] - 1) < 1e-8)
    }

    @Test func brentFindsSquareRootOfTwo() throws {
        let root = try RootFinder.brent(lower: 0, upper: 2, relativeTolerance: 1e-15) { $0 * $0 - 2 }
        #expect(abs(root - 2.0.squareRoot()) <= 4 * Double.ulpOfOne)
    }

    @Test func brentRejectsABracketWithoutASignChange() {
        #expect(throws: GSLError.self) { try RootFinder.brent(lower: 0, upper: 1) { $0 * $0 + 1 } }
    }

    @Test func quadratureOfTheGaussianDensity() throws {
        // ∫ exp(-x²/2) dx over the real line = sqrt(2π).
        let r = try Integration.integrate(from: -.infinity, to: .infinity) { exp(-$0 * $0 / 2) }
        #expect(abs(r.value - (2 * Double.pi).squareRoot()) <= 1e-12)
        let half = try Integration.integrate(from: 0, to: 1) { $0 * $0 }
        #expect(abs(half.value - 1.0 / 3) <= 1e-14)
    }

    @Test func sgemmMatchesANaiveProduct() {
        let m = 3, n = 4, k = 5
        let a = (0..<(m * k)).map { Float($0 % 7) - 3 }
        let b = (0..<(k * n)).map { Float($0 % 5) - 2 }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                       b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
        } } }
        for i in 0..<m { for j in 0..<n {
            var s: Float = 0
            for l in 0..<k { s += a[i * k + l] * b[l * n + j] }
            #expect(c[i * n + j] == s)   // small integers: exact in Float
        } }
    }
}

@Suite("OpenBLAS kernel choice")
struct BLASKernelChoiceTests {
    @Test("the running kernels multiply a test matrix as a Double loop does")
    func runningKernelsAreCorrect() {
        #expect(BLASKernels.sgemmAgreesWithReference(), "\(BLASKernels.description)")
        #expect(BLASKernels.description.contains(BLAS.coreName))
    }

    @Test("a generic set on a CPU with AVX2 and FMA is replaced, once; the user's choice is kept")
    func decisions() {
        #expect(BLASKernels.decide(core: "Prescott", user: nil, chosen: nil, fallback: nil, best: "Haswell", correct: true)
                == .reexecute(coreType: "Haswell", chosenFrom: "Prescott", fallbackFrom: nil, warning: nil))
        // Already chosen by us and correct: keep, silently.
        #expect(BLASKernels.decide(core: "Haswell", user: nil, chosen: "Prescott", fallback: nil, best: "Haswell", correct: true)
                == .keep(warning: nil))
        // Chosen by us and wrong: back to OpenBLAS's own choice, with one line.
        guard case .reexecute(nil, nil, "Haswell", let w?) = BLASKernels.decide(
            core: "Haswell", user: nil, chosen: "Prescott", fallback: nil, best: "Haswell", correct: false) else {
            Issue.record("a wrong chosen set must fall back"); return
        }
        #expect(w.contains("failed a check of sgemm"))
        // OpenBLAS's own non-generic choice, wrong: the generic set, with one line.
        guard case .reexecute("Prescott", nil, "Zen", _?) = BLASKernels.decide(
            core: "Zen", user: nil, chosen: nil, fallback: nil, best: "Haswell", correct: false) else {
            Issue.record("a wrong own choice must fall back to the generic set"); return
        }
        // The user's variable wins, with a warning when it is generic on a better CPU.
        guard case .keep(let warning?) = BLASKernels.decide(
            core: "Prescott", user: "Prescott", chosen: nil, fallback: nil, best: "SkylakeX", correct: true) else {
            Issue.record("the user's generic choice is kept with a warning"); return
        }
        #expect(warning.contains("SkylakeX"))
        #expect(BLASKernels.decide(core: "Zen", user: nil, chosen: nil, fallback: nil, best: "Haswell", correct: true)
                == .keep(warning: nil))
        // No better set on this CPU: keep the generic one.
        #expect(BLASKernels.decide(core: "Prescott", user: nil, chosen: nil, fallback: nil, best: nil, correct: true)
                == .keep(warning: nil))
        // After a fallback, never loop.
        guard case .keep = BLASKernels.decide(core: "Prescott", user: nil, chosen: nil, fallback: "Zen", best: "Haswell",
                                              correct: false) else { Issue.record("no second fallback"); return }
    }

    @Test("the CPU's best set from its flags")
    func bestForFlags() {
        #expect(BLASKernels.bestForCPU(flags: ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]) == "SkylakeX")
        #expect(BLASKernels.bestForCPU(flags: ["avx2", "fma"]) == "Haswell")
        #expect(BLASKernels.bestForCPU(flags: ["sse4_2", "avx"]) == nil)
    }
}
