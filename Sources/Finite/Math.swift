#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The C library's exp, log, log1p and expm1 under names that cannot clash with members
// of this module's types.
@inline(__always) func expOf(_ x: Double) -> Double { exp(x) }
@inline(__always) func logOf(_ x: Double) -> Double { log(x) }
@inline(__always) func log1pOf(_ x: Double) -> Double { log1p(x) }
@inline(__always) func expm1Of(_ x: Double) -> Double { expm1(x) }
