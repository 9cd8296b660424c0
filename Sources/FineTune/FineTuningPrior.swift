import TinyLM

extension PretrainSettings {
    /// The prior that chapters 10 and 11 fine-tune: the default model, or with `quick` a small
    /// one (two layers, 48 wide, 64-character documents, 400 steps), so that both chapters share
    /// one cached checkpoint.
    public static func fineTuningPrior(quick: Bool) -> PretrainSettings {
        guard quick else { return PretrainSettings() }
        var s = PretrainSettings()
        s.nLayer = 2; s.nHead = 2; s.nEmbd = 48; s.blockSize = 64
        s.batchSize = 16; s.steps = 400; s.warmupSteps = 40; s.evalInterval = 200; s.checkpointInterval = 200
        return s
    }
}
