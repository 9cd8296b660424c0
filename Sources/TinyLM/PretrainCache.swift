import Foundation

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
        log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    ) throws(TinyLMError) -> Checkpoint {
        let url = url(for: settings, in: directory)
        if FileManager.default.fileExists(atPath: url.path) {
            let c = try Checkpoint.load(url)
            if c.extraMetadata["complete"] == "true" && c.extraMetadata["pretrain_settings"] == settings.json { return c }
        }
        let trainer = try Pretrainer(settings: settings)
        log("pretraining \(trainer.model.config) on \(trainer.train.count) documents (\(settings.steps) steps) -> \(url.path)")
        let progress = showProgress ? ProgressReporter(total: settings.steps, label: "pretrain") : nil
        try trainer.run(checkpointURL: url, progress: progress, log: log)
        return trainer.checkpoint()
    }
}
