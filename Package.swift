// swift-tools-version: 6.1
// The executable companion to "RL with KL penalties is better viewed as Bayesian inference".
// Licensed GPL-3.0-or-later (it links the GNU Scientific Library).
import PackageDescription
import Foundation

// MARK: - Chapters
// One executable a chapter: (product name, folder under Chapters/).
let chapters: [(product: String, folder: String)] = [
    ("distribution-collapse", "01-distribution-collapse"),
    ("reward-shaping", "02-reward-shaping"),
    ("optimal-policy", "03-optimal-policy"),
    ("evidence-lower-bound", "04-evidence-lower-bound"),
    ("kl-proportionality", "05-kl-proportionality"),
    ("modelling-and-inference", "06-modelling-and-inference"),
    ("forward-and-reverse-kl", "07-forward-and-reverse-kl"),
    ("square-root-law", "08-square-root-law"),
    ("measuring-kl", "09-measuring-kl"),
]

// The transformer's kernels run 10-50 times slower unoptimised, which would make the tests of
// TinyLM and chapter 10 (which train real models) take many minutes; they are compiled with -O
// in debug builds too.
let optimisedEvenInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

// TinyLM's SIMD kernels (SIMD8<Float>) compile to two 128-bit halves for the baseline x86-64
// CPU. Where the building machine runs AVX2 and FMA (Haswell and later, read from /proc/cpuinfo
// when this manifest is evaluated), TinyLM is compiled for them, like -march: its binaries then
// run on such CPUs only, which is where they are built. Elsewhere the baseline stays.
let buildCPUFlags: Set<Substring> = {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(line.split(separator: " "))
}()
let wideSIMD: [SwiftSetting] = ["avx2", "fma", "bmi2"].allSatisfy({ buildCPUFlags.contains($0) })
    ? [.unsafeFlags(["-target-cpu", "haswell"]), .define("TINYLM_FMA")] : []

// MARK: - Libraries
var targets: [Target] = [
    // GSL and OpenBLAS headers; only the GSL module imports it.
    .systemLibrary(
        name: "CGSL",
        path: "Sources/CGSL",
        providers: [.apt(["libgsl-dev", "libopenblas-dev"])]
    ),
    // A safe Swift face on GSL: thrown errors, seeded RNGs, special functions, solvers.
    .target(name: "GSL", dependencies: ["CGSL"]),
    // Exact finite distributions in log space: divergences, objectives, posteriors, dynamics.
    // Compiled with -O in debug builds too: chapter 11 iterates exact sums over a thousand
    // sequences tens of thousands of times, in the tests as in the book.
    .target(name: "Finite", dependencies: ["GSL"], swiftSettings: optimisedEvenInDebug),
    // The HTML notebook: prose, MathML, check tables, SVG plots, JSON, index. No probability.
    .target(name: "Notebook"),
    // What every chapter shares: the command line, the check collector, the report writer.
    .target(
        name: "BookKit",
        dependencies: [
            "Notebook", "GSL",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
]

// Every chapter embeds its own sources as compiled (`embeddedSources`), so that each page shows
// the code that produced it and its provenance carries the code's hash.
targets += [
    .executableTarget(name: "EmbedSourcesTool", path: "Tools/embed-sources"),
    .plugin(name: "EmbedSources", capability: .buildTool(), dependencies: ["EmbedSourcesTool"]),
]

// A chapter whose main.swift holds `@main` is compiled as a library module (with the generated
// file beside it, main.swift would otherwise be read as top-level code); one that ends its
// main.swift with `Command.main()` keeps top-level code.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
func mainAttributeInMainSwift(_ folder: String) -> [SwiftSetting] {
    let url = packageRoot.appendingPathComponent("Chapters/\(folder)/main.swift")
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").contains { $0.hasPrefix("@main") } ? [.unsafeFlags(["-parse-as-library"])] : []
}

targets += chapters.map { chapter in
    .executableTarget(
        name: "Chapter" + chapter.folder.prefix(2),
        dependencies: [
            "BookKit", "Finite", "GSL", "Notebook",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Chapters/\(chapter.folder)",
        swiftSettings: mainAttributeInMainSwift(chapter.folder),
        plugins: ["EmbedSources"]
    )
}

// MARK: - Tests
targets += [
    .testTarget(
        name: "GSLTests",
        dependencies: ["GSL", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(
        name: "FiniteTests",
        dependencies: ["Finite", "GSL", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(
        name: "NotebookTests",
        dependencies: ["Notebook", "BookKit"]
    ),
    // Runs the built chapter executables and reads what they write.
    .testTarget(
        name: "ChapterTests",
        dependencies: ["Notebook", "BookKit", "Chapter10", "Chapter11"] + chapters.map { .target(name: "Chapter" + $0.folder.prefix(2)) }
    ),
]

// MARK: - TinyLM
// The tiny nanoGPT-architecture language model, its command-line tool `tinylm` and its tests.
targets += [
    // Notebook for AtomicFile: checkpoints are written like every other file of the book.
    .target(name: "TinyLM", dependencies: ["GSL", "Notebook"], swiftSettings: optimisedEvenInDebug + wideSIMD),
    .executableTarget(
        name: "TinyLMTool",
        dependencies: ["TinyLM", "GSL", "BookKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Tools/tinylm"
    ),
    // Fixtures/ holds a checkpoint written by PyTorch (bench/nanogpt_reference.py fixture), read by path.
    // Depends on the tool so that ToolTests can run the built `tinylm` beside the test bundle.
    .testTarget(name: "TinyLMTests", dependencies: ["TinyLM", "TinyLMTool", "GSL"], exclude: ["Fixtures"]),
]
let tinyLMProducts: [Product] = [
    .library(name: "TinyLM", targets: ["TinyLM"]),
    .executable(name: "tinylm", targets: ["TinyLMTool"]),
]

// MARK: - diagnose
// `diagnose`: measures a user's policy against its Bayesian posterior (exact tables and sampled
// JSON Lines), with its library and tests.
targets += [
    .target(name: "Diagnose", dependencies: ["GSL", "Notebook"]),
    .executableTarget(
        name: "DiagnoseTool",
        dependencies: ["Diagnose", "BookKit", "GSL", "Notebook", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Tools/diagnose"
    ),
    .testTarget(name: "DiagnoseTests", dependencies: ["Diagnose", "DiagnoseTool", "GSL", "Notebook"]),
]
let diagnoseProducts: [Product] = [
    .executable(name: "diagnose", targets: ["DiagnoseTool"]),
]

// MARK: - Fine-tuning
// RL, KL-regularised RL and DPG on TinyLM (chapter 10), with their measurements.
targets += [
    .target(name: "FineTune", dependencies: ["TinyLM", "Finite", "GSL"], swiftSettings: optimisedEvenInDebug),
    .executableTarget(
        name: "Chapter10",
        dependencies: [
            "BookKit", "FineTune", "TinyLM", "Finite", "GSL", "Notebook",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Chapters/10-fine-tuning",
        swiftSettings: optimisedEvenInDebug,
        plugins: ["EmbedSources"]
    ),
    // Chapter 11: what PPO, RLOO and GRPO converge to, exactly on the bridge and at scale.
    .executableTarget(
        name: "Chapter11",
        dependencies: [
            "BookKit", "FineTune", "TinyLM", "Finite", "GSL", "Notebook",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Chapters/11-trainers",
        swiftSettings: optimisedEvenInDebug,
        plugins: ["EmbedSources"]
    ),
    .testTarget(name: "FineTuneTests", dependencies: ["FineTune", "TinyLM", "Finite", "GSL"]),
]
let fineTuningProducts: [Product] = [
    .executable(name: "fine-tuning", targets: ["Chapter10"]),
    .executable(name: "trainers", targets: ["Chapter11"]),
]

// MARK: - Benchmarks
// `exact-bench`: times the exact kernels of chapters 3-5 beside numpy (../shared/bench/exact_numpy.py).
targets += [
    .executableTarget(
        name: "ExactBench",
        dependencies: ["Finite", "GSL", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Benchmarks/exact-bench"
    ),
]
let benchmarkProducts: [Product] = [.executable(name: "exact-bench", targets: ["ExactBench"])]

let package = Package(
    name: "KLBayes",
    platforms: [.macOS(.v14)],
    products: chapters.map { .executable(name: $0.product, targets: ["Chapter" + $0.folder.prefix(2)]) }
        + tinyLMProducts
        + diagnoseProducts
        + fineTuningProducts
        + benchmarkProducts,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: targets
)
