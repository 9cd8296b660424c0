import Foundation
import Notebook

/// Pretrained models kept on disk, keyed by their settings, so chapters reuse one run.
///
/// The file for settings s is `<directory>/pretrain-<s.key>.safetensors`. A file marked
/// complete is loaded as is; a partial one (an interrupted run) is resumed; otherwise the run
/// starts fresh. The default directory is `$TINYLM_CACHE`, else `Output/.cache/tinylm` under
/// the current directory.
public enum PretrainCache {
    public static var defaultDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["TINYLM_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            .appendingPathComponent("Output/.cache/tinylm", isDirectory: true)
    }

    public static func url(for settings: PretrainSettings, in directory: URL = defaultDirectory) -> URL {
        directory.appendingPathComponent("pretrain-\(settings.key).safetensors")
    }

    /// The pretrained model for `settings`: from the cache when complete, else trained (resuming
    /// a partial run) with progress on standard error, then cached.
    public static func pretrainedModel(
        settings: PretrainSettings, directory: URL = defaultDirectory, showProgress: Bool = true,
        log: (String) -> Void = { writeStandardError($0 + "\n") }
    ) throws(TinyLMError) -> Checkpoint {
        let url = url(for: settings, in: directory)
        if FileManager.default.fileExists(atPath: url.path) {
            let c = try Checkpoint.load(url)
            if c.extraMetadata["complete"] == "true" && c.extraMetadata["pretrain_settings"] == settings.json { return c }
        }
        try checkWritable(url)
        let trainer = try Pretrainer(settings: settings)
        log("pretraining \(trainer.model.config) on \(trainer.train.count) documents (\(settings.steps) steps) -> \(url.path)")
        let progress = showProgress ? ProgressReporter(total: settings.steps, label: "pretrain") : nil
        try trainer.run(checkpointURL: url, progress: progress, log: log)
        return trainer.checkpoint()
    }

    /// Throws unless a checkpoint can be written at `url`: its folder exists or can be created,
    /// and a file can be made in it (found before any training, not after hundreds of steps).
    public static func checkWritable(_ url: URL) throws(TinyLMError) {
        let dir = url.deletingLastPathComponent()
        do { try AtomicFile.prepareFolder(dir) } catch { throw .checkpoint("\(error)") }
        let probe = dir.appendingPathComponent(".\(url.lastPathComponent).probe.\(getpid()).tmp")
        let fd = open(probe.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .checkpoint("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        close(fd)
        unlink(probe.path)
    }
}
