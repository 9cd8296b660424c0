/// Where a page came from: enough to reproduce it.
public struct Provenance: Codable, Sendable {
    public var commit: String
    public var dirty: Bool
    public var commandLine: String
    public var seed: UInt64
    public var parameters: [String: String]
    public var swiftVersion: String
    public var gslVersion: String
    public var openblas: String
    public var cores: Int
    public var date: String
    public var elapsedSeconds: Double
    /// FNV-1a of the chapter's sources as compiled (`BookKit.ChapterSources.hash`), if embedded.
    public var sourceHash: String?

    public init(commit: String, dirty: Bool, commandLine: String, seed: UInt64, parameters: [String: String],
                swiftVersion: String, gslVersion: String, openblas: String, cores: Int, date: String, elapsedSeconds: Double,
                sourceHash: String? = nil) {
        self.commit = commit; self.dirty = dirty; self.commandLine = commandLine; self.seed = seed
        self.parameters = parameters; self.swiftVersion = swiftVersion; self.gslVersion = gslVersion
        self.openblas = openblas; self.cores = cores; self.date = date; self.elapsedSeconds = elapsedSeconds
        self.sourceHash = sourceHash
    }
}
