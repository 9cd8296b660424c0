import Foundation
import GSL
import Testing

/// Special functions tested in GSL's own manner: the value within a tolerance, the expected
/// status, and GSL's error estimate covering the actual error.
@Suite("GSL special functions")
struct SpecialFunctionTests {
    /// Relative tolerance of a few ulps for functions GSL computes to full double precision.
    let ulps = 8 * Double.ulpOfOne

    func expectClose(_ r: SpecialValue, _ expected: Double, relative: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let err = abs(r.value - expected)
        #expect(err <= relative * abs(expected), "value \(r.value), expected \(expected)", sourceLocation: sourceLocation)
        // GSL's error estimate must cover the true error (with the same rounding slack).
        #expect(err <= r.error + relative * abs(expected), "error estimate \(r.error) below actual \(err)", sourceLocation: sourceLocation)
    }

    @Test func lnGammaOfIntegersIsLogFactorial() throws {
        var logFactorial = 0.0
        for n in 1...60 {
            // log Γ(n) = log (n-1)!, summed independently.
            expectClose(try SpecialFunctions.lnGamma(Double(n)), logFactorial, relative: 64 * ulps)
            logFactorial += log(Double(n))
        }
    }

    @Test func lnGammaHalf() throws {
        expectClose(try SpecialFunctions.lnGamma(0.5), 0.5 * log(Double.pi), relative: ulps)
    }

    @Test func lnChooseMatchesPascal() throws {
        // Pascal's triangle in Double is exact up to n = 50 (C(50,25) ≈ 1.26e14 < 2^53).
        var row: [Double] = [1]
        for n in 1...50 {
            var next = [Double](repeating: 1, count: n + 1)
            for k in 1..<n { next[k] = row[k - 1] + row[k] }
            row = next
            for k in [0, n / 3, n / 2, n] {
                expectClose(try SpecialFunctions.lnChoose(n, k), log(row[k]), relative: 64 * ulps)
            }
        }
    }

    @Test func log1pAndExpm1AreAccurateNearZero() throws {
        for x in [1e-300, 1e-20, 1e-10, 1e-5, 1e-3] {
            // Series: log(1+x) = x - x²/2 + x³/3 - ..., exp(x) - 1 = x + x²/2 + x³/6 + ...
            // Horner forms of the first seven terms.
            var log1pSeries = 0.0, expm1Series = 0.0
            for k in stride(from: 7, through: 1, by: -1) {
                let sign: Double = k % 2 == 1 ? 1 : -1
                log1pSeries = x * (sign / Double(k) + log1pSeries)
            }
            var factorialTerm = 0.0
            for k in stride(from: 7, through: 1, by: -1) { factorialTerm = x / Double(k) * (1 + factorialTerm) }
            expm1Series = factorialTerm
            let tol = ulps   // the first omitted term, x⁸/8, is below 1e-24 relative for x <= 1e-3
            expectClose(try SpecialFunctions.log1p(x), log1pSeries, relative: tol)
            expectClose(try SpecialFunctions.expm1(x), expm1Series, relative: tol)
        }
    }

    @Test func log1pAndExpm1AgreeWithTheCLibraryAwayFromZero() throws {
        for x in [0.1, 0.5, 3, 100] {
            expectClose(try SpecialFunctions.log1p(x), Foundation.log1p(x), relative: 4 * Double.ulpOfOne)
            expectClose(try SpecialFunctions.expm1(x), Foundation.expm1(x), relative: 4 * Double.ulpOfOne)
        }
    }

    @Test func exprelIsOneAtZeroAndMatchesDefinition() throws {
        expectClose(try SpecialFunctions.exprel(0), 1, relative: ulps)
        for x in [-30.0, -1, 0.5, 2, 20] {
            expectClose(try SpecialFunctions.exprel(x), (exp(x) - 1) / x, relative: 64 * ulps)
        }
    }

    @Test func digammaRecurrence() throws {
        // ψ(x + 1) = ψ(x) + 1/x, and ψ(1) = -γ.
        expectClose(try SpecialFunctions.psi(1), -0.57721566490153286061, relative: ulps)
        for x in [0.3, 1.7, 12.5, 100] {
            let lhs = try SpecialFunctions.psi(x + 1).value
            let rhs = try SpecialFunctions.psi(x).value + 1 / x
            #expect(abs(lhs - rhs) <= 32 * Double.ulpOfOne * max(1, abs(lhs)))
        }
    }

    @Test func chiSquareTailWithTwoDegreesOfFreedomIsExponential() throws {
        // For k = 2, Q(x; 2) = exp(-x/2) exactly.
        for x in [0.0, 0.5, 3, 10, 50] {
            let q = try SpecialFunctions.chiSquareQ(x, degreesOfFreedom: 2)
            #expect(abs(q - exp(-x / 2)) <= 1e-14 * max(exp(-x / 2), 1e-300) + 1e-300)
        }
    }

    @Test func underflowIsAThrownErrorNotAnAbort() {
        #expect(throws: GSLError.self) { try SpecialFunctions.exp(-1000) }
        do {
            _ = try SpecialFunctions.exp(-1000)
        } catch {
            #expect(error.status == GSLError.underflow)
            #expect(error.function == "gsl_sf_exp_e")
            #expect(error.description.contains("underflow"))
        }
    }

    @Test func domainErrorIsAThrownErrorNotAnAbort() {
        do {
            _ = try SpecialFunctions.lnGamma(-2)   // a pole of Γ
            Issue.record("lnGamma(-2) should have thrown")
        } catch {
            #expect(error.status == GSLError.domain)
            #expect(error.function == "gsl_sf_lngamma_e")
        }
        do {
            _ = try SpecialFunctions.log(-1)
            Issue.record("log(-1) should have thrown")
        } catch {
            #expect(error.status == GSLError.domain)
        }
        #expect(throws: GSLError.self) { try SpecialFunctions.chiSquareQ(1, degreesOfFreedom: 0) }
        #expect(throws: GSLError.self) { try SpecialFunctions.lnChoose(3, 5) }
    }

    @Test func overflowIsAThrownError() {
        do {
            _ = try SpecialFunctions.exp(1000)
            Issue.record("exp(1000) should have thrown")
        } catch {
            #expect(error.status == GSLError.overflow)
        }
    }
}
