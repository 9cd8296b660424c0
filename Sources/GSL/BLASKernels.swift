import CGSL
import Foundation

extension BLAS {
    /// The kernel set OpenBLAS chose when it loaded ("Haswell", "SkylakeX", "Zen", ...), from
    /// the CPU or from `OPENBLAS_CORETYPE`. Benchmarks print it beside their figures.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

/// Makes OpenBLAS run kernels that suit the CPU, whatever its own CPU table says.
///
/// OpenBLAS (a DYNAMIC_ARCH build, as Debian's) picks its kernel set when it loads, from a table
/// of CPUs it knows; a CPU newer than the table (Debian's 0.3.21 on recent Xeons) gets the generic
/// `Prescott` set, about a third as fast on TinyLM's products. OpenBLAS reads
/// `OPENBLAS_CORETYPE` only when it loads, so the choice cannot be changed in a running process:
/// `choose()` runs first thing in `main`, and when a generic set was loaded on a CPU with AVX2
/// and FMA (or AVX-512) and the user did not set the variable, it sets it to the best set the
/// CPU supports and re-executes the program, once. The re-executed program then multiplies a
/// test matrix with the chosen kernels and with a Double reference; if they disagree (some
/// OpenBLAS builds are wrong with some kernel sets on some CPUs) it re-executes once more with
/// OpenBLAS's own choice, saying so in one line.
public enum BLASKernels {
    /// Kernel sets OpenBLAS falls back to when it does not know the CPU: no AVX2.
    static let generic: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                       "Coppermine", "Northwood", "Banias", "Opteron", "Barcelona", "Bobcat",
                                       "Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"]

    /// Environment variables of the choice (the user's own `OPENBLAS_CORETYPE` always wins).
    static let chosenMarker = "KLBAYES_BLAS_CHOSEN"
    static let fallbackMarker = "KLBAYES_BLAS_FALLBACK"
    /// Testing aid: treat the loaded set as this one (a generic set, to exercise the re-run on a
    /// machine whose OpenBLAS knows its CPU). Read only before any choice was made.
    static let pretendMarker = "KLBAYES_BLAS_PRETEND_CORE"

    /// How the running kernel set was chosen, for benchmarks and provenance:
    /// "Haswell (set at start-up; OpenBLAS chose the generic Prescott)".
    public static var description: String {
        let env = ProcessInfo.processInfo.environment
        let core = BLAS.coreName
        if let from = env[chosenMarker], env[fallbackMarker] == nil {
            return "\(core) (set at start-up; OpenBLAS chose the generic \(from) for this CPU)"
        }
        if let rejected = env[fallbackMarker] {
            return "\(core) (\(rejected) failed the start-up check of sgemm against a Double product)"
        }
        if let user = env["OPENBLAS_CORETYPE"], !user.isEmpty { return "\(core) (OPENBLAS_CORETYPE=\(user))" }
        return "\(core) (OpenBLAS's choice for this CPU)"
    }

    /// Whether the running set is a generic one while the CPU supports `best`.
    public static var genericOnBetterCPU: Bool { generic.contains(BLAS.coreName) && bestForCPU() != nil }

    /// The best kernel set this CPU supports that OpenBLAS 0.3 ships: SkylakeX with AVX-512
    /// (F, BW, VL, DQ), Haswell with AVX2 and FMA, none otherwise.
    public static func bestForCPU(flags given: Set<Substring>? = nil) -> String? {
        let flags = given ?? cpuFlags()
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    static func cpuFlags() -> Set<Substring> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }

    /// What `choose()` does next.
    public enum Action: Equatable, Sendable {
        /// Keep the running kernels (with a warning line, if any).
        case keep(warning: String?)
        /// Re-execute with `OPENBLAS_CORETYPE` set to the set given (nil: unset), the markers set,
        /// and a warning line, if any.
        case reexecute(coreType: String?, chosenFrom: String?, fallbackFrom: String?, warning: String?)
    }

    /// The decision of `choose()`, as a pure function of what it reads, for tests.
    /// - Parameters: core: the running set; user: the user's `OPENBLAS_CORETYPE` (nil when unset
    ///   and not ours); chosen / fallback: our markers; best: `bestForCPU()`; correct: the check.
    public static func decide(core: String, user: String?, chosen: String?, fallback: String?, best: String?,
                              correct: Bool) -> Action {
        if let rejected = fallback {
            return .keep(warning: correct ? nil
                : "OpenBLAS's \(core) kernels, used because \(rejected) failed, also fail the check of sgemm: results may be wrong")
        }
        if let from = chosen {
            if correct { return .keep(warning: nil) }
            return .reexecute(coreType: nil, chosenFrom: nil, fallbackFrom: core,
                              warning: "OpenBLAS's \(core) kernels failed a check of sgemm against a Double product; using OpenBLAS's own choice (\(from))")
        }
        if let user {
            if !correct { return .keep(warning: "OpenBLAS's \(core) kernels (OPENBLAS_CORETYPE=\(user)) fail a check of sgemm against a Double product: results may be wrong") }
            if generic.contains(core), let best {
                return .keep(warning: "OpenBLAS runs its generic \(core) kernels (OPENBLAS_CORETYPE=\(user)) on a CPU that supports \(best)")
            }
            return .keep(warning: nil)
        }
        if generic.contains(core), let best {
            return .reexecute(coreType: best, chosenFrom: core, fallbackFrom: nil, warning: nil)
        }
        if !correct {
            return .reexecute(coreType: "Prescott", chosenFrom: nil, fallbackFrom: core,
                              warning: "OpenBLAS's \(core) kernels failed a check of sgemm against a Double product; using its generic Prescott kernels")
        }
        return .keep(warning: nil)
    }

    /// Chooses the kernel set (see the type's comment); returns only when the running set is the
    /// one to keep. Prints at most one line on standard error.
    public static func choose() {
        let env = ProcessInfo.processInfo.environment
        let ours = env[chosenMarker] != nil || env[fallbackMarker] != nil
        let core = ours ? BLAS.coreName : (env[pretendMarker] ?? BLAS.coreName)
        let action = decide(core: core, user: ours ? nil : env["OPENBLAS_CORETYPE"], chosen: env[chosenMarker],
                            fallback: env[fallbackMarker], best: bestForCPU(), correct: sgemmAgreesWithReference())
        switch action {
        case .keep(let warning):
            if let warning { warn(warning) }
        case .reexecute(let coreType, let chosenFrom, let fallbackFrom, let warning):
            if let warning { warn(warning) }
            if let coreType { setenv("OPENBLAS_CORETYPE", coreType, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
            if let chosenFrom { setenv(chosenMarker, chosenFrom, 1) } else { unsetenv(chosenMarker) }
            if let fallbackFrom { setenv(fallbackMarker, fallbackFrom, 1) }
            reexecute()
            // Still here: exec failed. Run on with what is loaded, and say so.
            warn("could not re-run with OpenBLAS's \(coreType ?? "own") kernels; running with \(BLAS.coreName)")
        }
    }

    /// Re-executes this program with the same arguments and the current environment.
    static func reexecute() {
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        for p in cargs { free(p) }
    }

    static func warn(_ line: String) {
        FileHandle.standardError.write(Data(("warning: " + line + "\n").utf8))
    }

    /// C = A B for a 67×45 times 45×53 product of fixed pseudo-random entries, by sgemm and by a
    /// Double loop: every entry within 1e-5 (|C| + 1). Float rounding of 45 products of entries
    /// in [-1, 1] is below 45 × 6e-8 ≈ 3e-6; a wrong kernel is off by O(1).
    public static func sgemmAgreesWithReference() -> Bool {
        let m = 67, k = 45, n = 53
        var state: UInt32 = 2463534242
        func next() -> Float {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return Float(Double(state) / Double(UInt32.max) * 2 - 1)
        }
        let a = (0..<(m * k)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                               b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
                let got = Double(c[i * n + j])
                if !(abs(got - s) <= 1e-5 * (abs(s) + 1)) { return false }
            }
        }
        return true
    }
}
