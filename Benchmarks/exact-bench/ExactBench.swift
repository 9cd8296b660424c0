// exact-bench: times the six exact quantities of chapters 3-5 (log Z, π*, KL(π ‖ π0), KL(π ‖ π*),
// H(π), J_KLRL(π)) over 10^3 ... 10^7 outcomes, the readable kernel against the fused one, checks
// both against a long-double reference, and (with --numpy) runs ../shared/bench/exact_numpy.py on
// the same sizes and prints the ratio to its "ALL" row.
import ArgumentParser
import Dispatch
import Finite
import Foundation
import GSL

@main
struct ExactBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact-bench",
        abstract: "Times log Z, π*, KL both ways, entropy and J_KLRL on exact spaces; compares with numpy.",
        discussion: "The problem is numpy's: log π0 = log_softmax(2 N(0,1)), r ~ N(0,1), log π = log_softmax(2 N(0,1)). Each time is the median of --repeats samples, each looping for at least --min-time seconds.")

    @Option(help: "Comma-separated sizes (each 10 to 10^8).")
    var sizes: String = "1e3,1e5,1e6,1e7"

    @Option(help: "Temperature β (positive, finite).")
    var beta: Double = 0.5

    @Option(help: "Samples per timing (1 to 100); the median is reported.")
    var repeats: Int = 5

    @Option(help: "Least duration of one sample in seconds (0.001 to 10).")
    var minTime: Double = 0.02

    @Option(help: "Worker threads of the fused kernel (1 to 64).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Path of exact_numpy.py: run it on the same sizes after the Swift timings and print the ratio.")
    var numpy: String?

    @Option(help: "Seed of the problem's random draws.")
    var seed: UInt64 = 1

    func validate() throws {
        guard let list = parsedSizes, !list.isEmpty, list.allSatisfy({ (10...100_000_000).contains($0) }) else {
            throw ValidationError("--sizes must be a comma-separated list of sizes from 10 to 1e8 (got \(sizes))")
        }
        guard beta.isFinite, beta > 0 else { throw ValidationError("--beta must be positive and finite (got \(beta))") }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100 (got \(repeats))") }
        guard minTime.isFinite, minTime >= 0.001, minTime <= 10 else { throw ValidationError("--min-time must be in [0.001, 10] (got \(minTime))") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64 (got \(threads))") }
        if let path = numpy, !FileManager.default.fileExists(atPath: path) { throw ValidationError("--numpy: no file at \(path)") }
    }

    var parsedSizes: [Int]? {
        let parts = sizes.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! == $0!.rounded() }) else { return nil }
        return parts.map { Int($0!) }
    }

    func run() throws {
        let list = parsedSizes!
        print("# exact-bench  beta=\(beta) repeats=\(repeats) (median) min_time/sample=\(minTime)s threads=\(threads) cores=\(ProcessInfo.processInfo.activeProcessorCount); float64")
        var rows: [(name: String, seconds: [Double])] = [("ALL readable (ExactKernels.summary)", []), ("ALL fused, 1 thread", []), ("ALL fused, \(threads) thread\(threads == 1 ? "" : "s")", [])]
        var accuracy: [String] = []
        for n in list {
            let problem = Problem(n: n, seed: seed)
            var posterior = [Double](repeating: 0, count: n)
            let reference = problem.longDoubleReference(beta: beta)
            let readable = timeit { _ = ExactKernels.summary(logPrior: problem.logPrior, reward: problem.reward, logPolicy: problem.logPolicy, policy: problem.policy, beta: beta, posterior: &posterior) }
            let readableErrors = problem.errors(ExactKernels.summary(logPrior: problem.logPrior, reward: problem.reward, logPolicy: problem.logPolicy, policy: problem.policy, beta: beta, posterior: &posterior), posterior, reference)
            var fusedOne = 0.0, fused = 0.0, fusedErrors = ""
            problem.withBuffers { lp0, r, lpi, pi in
                posterior.withUnsafeMutableBufferPointer { out in
                    fusedOne = timeit { _ = ExactKernels.summaryFused(logPrior: lp0, reward: r, logPolicy: lpi, policy: pi, beta: beta, posterior: out, threads: 1) }
                    fused = timeit { _ = ExactKernels.summaryFused(logPrior: lp0, reward: r, logPolicy: lpi, policy: pi, beta: beta, posterior: out, threads: threads) }
                    let s = ExactKernels.summaryFused(logPrior: lp0, reward: r, logPolicy: lpi, policy: pi, beta: beta, posterior: out, threads: threads)
                    fusedErrors = problem.errors(s, Array(out), reference)
                }
            }
            rows[0].seconds.append(readable); rows[1].seconds.append(fusedOne); rows[2].seconds.append(fused)
            accuracy.append("N=\(format(n)): readable \(readableErrors); fused \(fusedErrors)")
            FileHandle.standardError.write(Data("# done N=\(n)\n".utf8))
        }
        let header = "operation".padding(toLength: 40, withPad: " ", startingAt: 0) + list.map { pad("N=\(format($0))") }.joined()
        print("\n## ns per outcome (median)\n" + header)
        for row in rows { print(row.name.padding(toLength: 40, withPad: " ", startingAt: 0) + zip(row.seconds, list).map { pad(String(format: "%.2f", $0 / Double($1) * 1e9)) }.joined()) }
        print("\n## microseconds per call (median)\n" + header)
        for row in rows { print(row.name.padding(toLength: 40, withPad: " ", startingAt: 0) + row.seconds.map { pad(String(format: "%.1f", $0 * 1e6)) }.joined()) }
        print("\n## error against a long-double (Float80) reference, in units of ε·(sum of |terms|)")
        for line in accuracy { print(line) }
        if let path = numpy { try compareWithNumpy(path, list, fused: rows[2].seconds) }
    }

    /// Median over `repeats` samples, each looping enough calls to last at least `minTime`.
    func timeit(_ body: () -> Void) -> Double {
        body()
        var calls = 1
        while true {
            let t = clock { for _ in 0..<calls { body() } }
            if t >= minTime { break }
            calls = max(calls * 2, Int(Double(calls) * minTime / max(t, 1e-9) * 1.2))
        }
        let samples = (0..<repeats).map { _ in clock { for _ in 0..<calls { body() } } / Double(calls) }
        return samples.sorted()[samples.count / 2]
    }

    func clock(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Runs numpy's benchmark on the same sizes and prints its "ALL" row beside the fused kernel.
    func compareWithNumpy(_ path: String, _ list: [Int], fused: [Double]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", path, "--sizes", list.map { String($0) }.joined(separator: ","), "--beta", "\(beta)",
                       "--repeats", "\(repeats)", "--min-time", "\(minTime)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0, let section = text.components(separatedBy: "## microseconds per call (median)").dropFirst().first,
              let row = section.split(separator: "\n").first(where: { $0.hasPrefix("ALL:") }) else {
            print("\n# numpy benchmark failed (exit \(p.terminationStatus))"); return
        }
        let micros = row.split(separator: " ").compactMap { Double($0) }.suffix(list.count)
        print("\n## numpy all_in_one against the fused kernel (\(threads) thread\(threads == 1 ? "" : "s")), microseconds per call")
        print("size".padding(toLength: 12, withPad: " ", startingAt: 0) + pad("numpy") + pad("fused") + pad("numpy/fused"))
        for (k, n) in list.enumerated() where k < micros.count {
            let np = Array(micros)[k], sw = fused[k] * 1e6
            print("N=\(format(n))".padding(toLength: 12, withPad: " ", startingAt: 0) + pad(String(format: "%.1f", np)) + pad(String(format: "%.1f", sw)) + pad(String(format: "%.2fx", np / sw)))
        }
    }
}

func pad(_ s: String) -> String { String(repeating: " ", count: max(1, 13 - s.count)) + s }
func format(_ n: Int) -> String { String(format: "%.0e", Double(n)) }
