import Finite

/// The trainers the chapter compares, each with the library defaults it imitates.
///
/// `id` is stable (check ids, random streams, report keys); `name` is the label on the page.
struct TrainerCase: Sendable {
    let id: String
    let name: String
    /// The library, its configuration and the defaults kept, as a user would write them.
    let source: String
    let recipe: TrainerRecipe
    /// Whether the expected update is ∇J_KLRL up to a positive factor (k1 in the reward, chapter
    /// 9), so that its fixed point is π*_β.
    let followsReverseKL: Bool

    /// PPO (Ziegler et al. 2019, TRL PPOTrainer defaults: num_ppo_epochs 4, cliprange 0.2,
    /// kl_estimator k1 per token in the reward, gamma 1, advantages whitened), RLOO (TRL
    /// RLOOTrainer: rloo_k 2, sequence-level k1 in the reward, 4 epochs, cliprange 0.2), GRPO (TRL
    /// GRPOTrainer: num_generations 8, scale_rewards "group", num_iterations 1, epsilon 0.2, a
    /// token-mean loss, the per-token k3 loss at beta), the same without the std scaling, and
    /// GRPO with the k1 penalty moved into the reward.
    static let all: [TrainerCase] = [
        TrainerCase(id: "ppo", name: "PPO, k1 per token in the reward",
                    source: "TRL PPOTrainer (Ziegler et al. 2019): num_ppo_epochs=4, cliprange=0.2, "
                        + "kl_estimator=\"k1\" per token in the reward, gamma=1, whitened advantages; a "
                        + "leave-one-out baseline in place of the value head",
                    recipe: TrainerRecipe(advantage: .tokenReturnsWhitened, k3Loss: false, epochs: 4, clip: 0.2),
                    followsReverseKL: true),
        TrainerCase(id: "rloo", name: "RLOO, k1 per sequence in the reward",
                    source: "TRL RLOOTrainer (Ahmadian et al. 2024): rloo_k=2, sequence-level k1 in the reward "
                        + "(token_level_kl=False), num_ppo_epochs=4, cliprange=0.2",
                    recipe: TrainerRecipe(advantage: .sequenceLeaveOneOut, k3Loss: false, epochs: 4, clip: 0.2),
                    followsReverseKL: true),
        TrainerCase(id: "grpo-k3", name: "GRPO, k3 per token in the loss",
                    source: "TRL GRPOTrainer: num_generations=8, scale_rewards=\"group\", num_iterations=1, "
                        + "epsilon=0.2, loss_type=\"dapo\" (a token mean), beta=β (the default beta=0 has no penalty)",
                    recipe: TrainerRecipe(advantage: .groupNormalised(group: 8, klInReward: false, scale: .group),
                                          k3Loss: true, epochs: 1, clip: 0.2),
                    followsReverseKL: false),
        TrainerCase(id: "grpo-k3-unscaled", name: "GRPO without std scaling, k3 per token in the loss",
                    source: "TRL GRPOTrainer as above with scale_rewards=False (the group mean only, as Dr. GRPO)",
                    recipe: TrainerRecipe(advantage: .groupNormalised(group: 8, klInReward: false, scale: .none),
                                          k3Loss: true, epochs: 1, clip: 0.2),
                    followsReverseKL: false),
        TrainerCase(id: "grpo-k1", name: "GRPO, k1 per sequence in the reward",
                    source: "TRL GRPOTrainer with the penalty moved into the reward, "
                        + "$r - \\beta \\log \\pi_\\theta/\\pi_0$ (Shah et al. 2025), num_generations=8, "
                        + "scale_rewards=\"batch\", num_iterations=1",
                    recipe: TrainerRecipe(advantage: .groupNormalised(group: 8, klInReward: true, scale: .batch),
                                          k3Loss: false, epochs: 1, clip: 0.2),
                    followsReverseKL: true),
    ]
}
