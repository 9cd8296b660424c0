import CGSL

/// A failure reported by GSL, as a Swift error instead of an abort.
///
/// GSL's default error handler calls `abort()`: one underflow would end a whole test run.
/// This module switches that handler off once (see `GSLRuntime.start`) and calls only the
/// `_e` forms of GSL's functions, whose status it turns into this error.
public struct GSLError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The GSL function that failed, e.g. `gsl_sf_lngamma_e`.
    public let function: String
    /// GSL's status code (`GSL_EDOM`, `GSL_EUNDRFLW`, ...).
    public let status: Int32
    /// GSL's own words for the status (`gsl_strerror`).
    public let meaning: String

    public init(function: String, status: Int32) {
        self.function = function
        self.status = status
        self.meaning = String(cString: gsl_strerror(status))
    }

    /// A failure detected on the Swift side before calling GSL (bad arguments, non-finite
    /// results of a function that has no `_e` form).
    public init(function: String, status: Int32, meaning: String) {
        self.function = function
        self.status = status
        self.meaning = meaning
    }

    public var description: String { "\(function) failed with status \(status) (\(meaning))" }

    // The statuses the book meets, named as GSL names them.
    public static let success = Int32(GSL_SUCCESS)
    public static let domain = Int32(GSL_EDOM)
    public static let range = Int32(GSL_ERANGE)
    public static let invalid = Int32(GSL_EINVAL)
    public static let noProgress = Int32(GSL_ENOPROG)
    public static let maxIterations = Int32(GSL_EMAXITER)
    public static let underflow = Int32(GSL_EUNDRFLW)
    public static let overflow = Int32(GSL_EOVRFLW)
    public static let loss = Int32(GSL_ELOSS)
    public static let bad = Int32(GSL_EBADFUNC)
    public static let continueIterating = Int32(GSL_CONTINUE)
}

/// The one place that configures GSL for this process.
public enum GSLRuntime {
    /// Turns GSL's aborting error handler off. Swift initialises a global `let` exactly once
    /// and thread-safely, so every entry point of this module touches it first.
    private static let started: Bool = {
        _ = gsl_set_error_handler_off()
        return true
    }()

    /// Makes sure GSL's error handler is off. Cheap after the first call.
    @inline(__always)
    public static func start() { _ = started }

    /// The GSL version string, e.g. "2.7.1".
    public static var gslVersion: String { String(cString: cgsl_version()) }

    /// OpenBLAS's build configuration and thread count, for provenance footers.
    public static var openBLASConfig: String { String(cString: openblas_get_config()) }
    public static var openBLASThreads: Int { Int(openblas_get_num_threads()) }
    public static func setOpenBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

/// Throws a `GSLError` unless `status` is `GSL_SUCCESS`.
@inline(__always)
func check(_ status: Int32, _ function: String) throws(GSLError) {
    if status != Int32(GSL_SUCCESS) { throw GSLError(function: function, status: status) }
}
