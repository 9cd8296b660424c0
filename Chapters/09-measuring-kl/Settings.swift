// Chapter 9, the settings practitioners run: the KL penalties of TRL, verl and OpenRLHF (and of
// Shah et al.'s "A Comedy of Estimators") by their configuration names, each with its exact
// expected gradient, checked against finite differences of its averaged loss.
import BookKit
import Foundation
import Finite
import GSL
import Notebook

/// The settings, as the libraries' code computes them (read from their public sources): TRL's
/// GRPOTrainer with beta > 0 (per-token k3 = exp(ref − logp) − (ref − logp) − 1 in the loss),
/// verl's actor KL loss (kl_loss_type, loss_agg_mode "token-mean") and KL in the reward, and
/// OpenRLHF's per-token KL in the reward or, with --use_kl_loss, in the loss (a token mean).
/// In the reward, each library turns the per-token penalties into returns to go; the policy loss
/// is then averaged over tokens. `maxLength` is TRL's max_completion_length for dr_grpo.
func librarySettings(maxLength: Int) -> [KLSetting] {
    typealias P = KLSetting.Part
    let k3Loss = { (n: KLSetting.Normaliser, r: KLSetting.Ratio) in [P(.estimator(.k3), .loss, n, ratio: r)] }
    let verlLoss = { (t: KLSetting.Term) in [P(t, .loss, .tokenMean)] }
    let inReward = { (k: KLEstimator) in [P(.estimator(k), .rewardToGo, .tokenMean)] }
    return [
        KLSetting(id: "trl.grpo", library: "TRL GRPOTrainer", configuration: "beta > 0, loss_type=\"grpo\"",
                  parts: k3Loss(.sequenceMean, .none)),
        KLSetting(id: "trl.dapo", library: "TRL GRPOTrainer",
                  configuration: "beta > 0, loss_type=\"dapo\" (or \"bnpo\")",
                  parts: k3Loss(.tokenMean, .none)),
        KLSetting(id: "trl.dr-grpo", library: "TRL GRPOTrainer",
                  configuration: "beta > 0, loss_type=\"dr_grpo\", max_completion_length=\(maxLength)",
                  parts: k3Loss(.constant(Double(maxLength)), .none)),
        KLSetting(id: "trl.bias-correction-token", library: "TRL GRPOTrainer",
                  configuration: "use_bias_correction_kl=True, importance_sampling_level=\"token\", loss_type=\"dapo\"",
                  parts: k3Loss(.tokenMean, .token)),
        KLSetting(id: "trl.bias-correction-sequence", library: "TRL GRPOTrainer",
                  configuration: "use_bias_correction_kl=True, importance_sampling_level=\"sequence\", "
                    + "loss_type=\"dapo\"",
                  parts: k3Loss(.tokenMean, .sequence)),
        KLSetting(id: "verl.k1", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=k1 (kl)",
                  parts: verlLoss(.estimator(.k1))),
        KLSetting(id: "verl.k2", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=k2 (mse)",
                  parts: verlLoss(.estimator(.k2))),
        KLSetting(id: "verl.low-var-kl", library: "verl",
                  configuration: "use_kl_loss=True, kl_loss_type=low_var_kl (k3)",
                  parts: verlLoss(.clampedK3(maximum: 10))),
        KLSetting(id: "verl.abs", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=abs",
                  parts: verlLoss(.absolute)),
        KLSetting(id: "verl.k1-plus", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=k1+",
                  parts: verlLoss(.straightThrough(.k1))),
        KLSetting(id: "verl.k3-plus", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=k3+",
                  parts: verlLoss(.straightThrough(.k3))),
        KLSetting(id: "verl.full", library: "verl", configuration: "use_kl_loss=True, kl_loss_type=full",
                  parts: verlLoss(.exactPerPrefix)),
        KLSetting(id: "verl.kl-in-reward", library: "verl", configuration: "use_kl_in_reward=True, kl_penalty=kl",
                  parts: inReward(.k1)),
        KLSetting(id: "openrlhf.reward-k1", library: "OpenRLHF", configuration: "--kl_estimator k1 (in the reward)",
                  parts: inReward(.k1)),
        KLSetting(id: "openrlhf.reward-k2", library: "OpenRLHF", configuration: "--kl_estimator k2 (in the reward)",
                  parts: inReward(.k2)),
        KLSetting(id: "openrlhf.reward-k3", library: "OpenRLHF; Comedy of Estimators",
                  configuration: "--kl_estimator k3 (in the reward); “K3 in reward”", parts: inReward(.k3)),
        KLSetting(id: "openrlhf.loss-k2", library: "OpenRLHF", configuration: "--use_kl_loss --kl_estimator k2",
                  parts: [P(.estimator(.k2), .loss, .tokenMean)]),
        KLSetting(id: "openrlhf.loss-k3", library: "OpenRLHF", configuration: "--use_kl_loss --kl_estimator k3",
                  parts: [P(.estimator(.k3), .loss, .tokenMean)]),
        KLSetting(id: "comedy.k3-reward-and-loss", library: "Comedy of Estimators",
                  configuration: "“K3 in reward and loss”",
                  parts: inReward(.k3) + [P(.estimator(.k3), .loss, .tokenMean)]),
    ]
}

/// One setting's exact expected gradient, on- or off-policy.
struct SettingGradient {
    let setting: KLSetting
    let offPolicy: Bool
    let g: [Double]
}

func settingGradients(_ settings: [KLSetting], _ s: Setting) -> [SettingGradient] {
    settings.flatMap { setting in
        [false, true].map { off in
            SettingGradient(setting: setting, offPolicy: off,
                            g: setting.expectedGradient(policy: s.policy, prior: s.prior,
                                                        behaviour: off ? s.behaviour : nil))
        }
    }
}

/// How far g is from the direction of a target: the best positive multiple c t and the sine of
/// the angle, ‖g − c t‖/‖g‖ (0: g follows the target up to the factor c, which rescales β).
func directionFit(_ g: [Double], _ t: [Double]) -> (factor: Double, sine: Double) {
    let tt = dot(t, t), gg = dot(g, g)
    guard tt > 0, gg > 0 else { return (0, gg > 0 ? 1 : 0) }
    let c = dot(g, t) / tt
    return (c, (zip(g, t).reduce(0) { $0 + ($1.0 - c * $1.1) * ($1.0 - c * $1.1) } / gg).squareRoot())
}

/// The theorems for the settings, on-policy: which exact gradient each follows and with what
/// factor (its normaliser). Sums over prefixes (the targets) against sums over sequences.
func settingTheorems(_ t: TargetGradients, meanSteps: Double, maxLength: Int) -> [(id: String, target: [Double],
                                                                                     factor: Double, name: String)] {
    let m = 1 / meanSteps, l = 1 / Double(maxLength)
    let zero = [Double](repeating: 0, count: t.reverse.count)
    let rp = "the reverse per-prefix part", fp = "the forward per-prefix part", r = "the reverse KL"
    return [
        ("trl.dapo", t.forwardPerPrefix, m, fp), ("trl.dr-grpo", t.forwardPerPrefix, l, fp),
        ("trl.bias-correction-token", t.reversePerPrefix, m, rp), ("verl.k1", zero, m, "zero"),
        ("verl.k2", t.reversePerPrefix, m, rp), ("verl.k1-plus", t.reversePerPrefix, m, rp),
        ("verl.k3-plus", t.reversePerPrefix, m, rp), ("verl.full", t.reversePerPrefix, m, rp),
        ("verl.kl-in-reward", t.reverse, m, r), ("openrlhf.reward-k1", t.reverse, m, r),
        ("openrlhf.loss-k2", t.reversePerPrefix, m, rp), ("openrlhf.loss-k3", t.forwardPerPrefix, m, fp),
        ("comedy.k3-reward-and-loss", t.reverse, m, r),
    ]
}

func settings(_ c: Context) throws {
    let page = c.page, s = c.setting
    page.section("The settings practitioners run")
    page.prose(#"""
        Libraries name their KL penalties by configuration. TRL's GRPO trainer adds a per-token $k_3$ loss and \#
        normalises it per sequence ("grpo"), over all tokens ("dapo") or by a constant \#
        ("dr_grpo"); its "use_bias_correction_kl" multiplies each token's $k_3$ by the importance \#
        ratio, per token or per sequence (the exponential of the mean token log-ratio). verl's \#
        "kl_loss_type" picks $k_1$, $k_2$, $k_3$ clamped at 10 ("low_var_kl"), $|ℓ|$ ("abs"), a \#
        straight-through "k1+"/"k3+" (the value of the estimator, the gradient of $k_2$) or the exact \#
        per-prefix KL ("full", which the verl code we read leaves unimplemented; here it is computed from the \#
        next-token distributions). OpenRLHF and verl's "use_kl_in_reward" put a per-token estimate into \#
        the reward, whose returns to go then weight the score. Each is computed here exactly as the library \#
        computes it, in the limit of a large batch for the token means, and its expected gradient is compared \#
        with four targets: the reverse and forward gradients and their per-prefix parts (the prefix \#
        probabilities held fixed). A gradient follows a target when it is a positive multiple of it: the \#
        multiple only rescales $\beta$.
        """#)
    let rng = c.seeds.generator("directions")
    let directions = (0..<2).map { _ in randomDirection(s.space.parameterCount, rng) }
    let list = librarySettings(maxLength: s.space.maxLength)
    let rows = settingGradients(list, s)
    page.check(settingsDerivativeCheck(rows, s, directions: directions))
    let t = TargetGradients(s)
    let meanT = KLSetting.meanSteps(s.policy)
    let theorems = settingTheorems(t, meanSteps: meanT, maxLength: s.space.maxLength)
    page.check(settingsTheoremCheck(rows, theorems: theorems, s))
    let targets: [(String, [Double])] = [("reverse KL", t.reverse), ("forward KL", t.forward),
                                         ("reverse per-prefix part", t.reversePerPrefix),
                                         ("forward per-prefix part", t.forwardPerPrefix)]
    var table: [[String]] = []
    var follow: [String: String] = [:]
    var offFollowers: [SettingGradient] = []
    var verdictText: [String: String] = [:]
    for r in rows {
        let fits = targets.map { directionFit(r.g, $0.1) }
        let best = fits.indices.min { fits[$0].sine < fits[$1].sine }!
        let zero = norm(r.g) <= followsThreshold * norm(t.reverse)
        let verdict = zero ? "zero gradient: no KL"
            : fits[best].sine <= followsThreshold && fits[best].factor > 0
            ? "\(targets[best].0) × \(NumberFormat.format(fits[best].factor, significant: 3))"
            : "none (nearest: \(targets[best].0))"
        if !r.offPolicy { follow[r.setting.id] = verdict } else if !verdict.hasPrefix("none") { offFollowers.append(r) }
        let nearest = "\(NumberFormat.format(fits[best].sine, significant: 2)) from the \(targets[best].0)"
        verdictText[r.setting.id + (r.offPolicy ? " off" : " on")] = verdict.hasPrefix("none") ? "none: \(nearest)"
            : verdict
        table.append([r.setting.library, r.setting.configuration, r.offPolicy ? "off-policy (μ)" : "on-policy"]
            + fits.map { NumberFormat.format($0.sine, significant: 2) } + [verdict])
    }
    page.table(headers: ["library", "setting", "samples from", "sine to reverse", "sine to forward",
                         "sine to reverse per-prefix", "sine to forward per-prefix", "follows"],
               rows: table,
               caption: "Each library setting's exact expected gradient against the four targets: the sine of the "
                + "angle between them (0 when the gradient is a positive multiple of the target, then named with its "
                + "factor); $\\mathbb{E}_\\pi[T]$ = \(NumberFormat.format(meanT, significant: 4)) tokens",
               foldAbove: 40)
    c.answers.settings = (
        headers: ["library", "setting", "on-policy, the expected gradient follows", "from a stale policy's samples"],
        rows: list.map { [$0.library, $0.configuration, verdictText[$0.id + " on"]!, verdictText[$0.id + " off"]!] },
        caption: "Which KL your trainer's KL setting follows: a positive multiple of the reverse or forward gradient "
            + "or of their per-prefix parts (the factor only rescales β), or none, with the sine of the angle to the "
            + "nearest; the section on library settings has the checks and all four angles")
    let clampActive = s.p.expectation((0..<s.n).map { i -> Double in
        let lp = s.policy.tokenLogProbabilities(i), lq = s.prior.tokenLogProbabilities(i)
        return zip(lp, lq).contains { KLEstimator.k3.value(logRatio: $0 - $1) > 10 } ? 1 : 0
    })
    page.parameters([("$\\mathbb{E}_\\pi[T]$, tokens a sequence (the end token included)", NumberFormat.format(meanT)),
                     ("TRL's max_completion_length (dr_grpo)", "\(s.space.maxLength)"),
                     ("P(a sequence has a token where low_var_kl's clamp at 10 is active)",
                      NumberFormat.format(clampActive, significant: 3))])
    page.aside(#"""
        Why $k_3$ in the reward and in the loss together follows the reverse KL while either alone does not: the \#
        loss adds $1 - e^{-ℓ_t}$ to step $t$'s coefficient, which turns its own $k_3 = e^{-ℓ_t} - 1 + ℓ_t$ in the \#
        return into $ℓ_t$; each later $k_3$ in the return averages, given its prefix, to that prefix's KL, which \#
        is also what a later $k_1$ averages to. So in expectation the sum is $k_1$ in the reward.
        """#)
    let byVerdict = { (prefix: String) in
        list.filter { follow[$0.id]?.hasPrefix(prefix) == true }.map { "\($0.library) \($0.configuration)" }
    }
    let none = byVerdict("none")
    c.answers.add("Which KL does my trainer's KL setting follow?",
                  "On-policy, the reverse ∇KL($\\pi_\\theta$ ‖ π0) is followed by "
                    + "\(byVerdict("reverse KL").joined(separator: "; ")) "
                    + "(k1 in the reward, and k3 in the reward and the loss together); only its reverse per-prefix "
                    + "part by \(byVerdict("reverse per-prefix").joined(separator: "; ")); only the forward per-prefix "
                    + "part by \(byVerdict("forward per-prefix").joined(separator: "; ")); "
                    + (none.isEmpty ? "" : "no KL at all by \(none.joined(separator: "; ")); ")
                    + "verl's k1 loss has zero expected gradient. "
                    + (offFollowers.isEmpty ? "From a stale policy's samples none of them follows any of the four"
                        : "From a stale policy's samples only "
                            + "\(offFollowers.map(\.setting.id).joined(separator: ", ")) "
                            + "follows one")
                    + " (table of library settings).")
}

/// Every setting's exact expected gradient against Richardson differences of its averaged loss,
/// on- and off-policy, along each direction: one sweep, the worst comparison reported.
func settingsDerivativeCheck(_ rows: [SettingGradient], _ s: Setting, directions: [[Double]]) -> Check {
    let items = rows.map { r -> DerivativeItem in
        let mu: AutoregressiveModel? = r.offPolicy ? s.behaviour : nil
        let smooth = { (v: [Double]) in
            r.setting.isSmooth(between: moved(s, v, -GradientCheck.step), and: moved(s, v, GradientCheck.step),
                               frozen: s.policy, prior: s.prior)
        }
        return DerivativeItem(label: "\(r.setting.id), \(r.offPolicy ? "off" : "on")-policy", gradient: r.g,
                              smoothAlong: smooth) {
            r.setting.averagedLoss(at: $0, frozen: s.policy, prior: s.prior, behaviour: mu)
        }
    }
    let sweep = derivativeSweep(items, s, directions: directions)
    let skipped = items.count * directions.count - sweep.count
    return sweep.check(
        id: "settings.expected-equals-derivative",
        claim: "Every library setting's exact expected gradient equals the derivative of its averaged loss (each on- "
            + "and off-policy, \(directions.count) random directions)", reference: "eq. 4",
        aLabel: "$\\langle \\mathbb{E} \\nabla L, v \\rangle$", bLabel: "Richardson difference",
        because: GradientCheck.reason + "; \(skipped) setting-direction pairs along which a kink of |ℓ| or of a "
            + "clamp falls within the step are left out")
}

/// The settings with a known target, on-policy: the expected gradient (a sum over sequences)
/// against the normaliser times the target (a sum over prefixes), coordinate by coordinate.
func settingsTheoremCheck(_ rows: [SettingGradient], theorems: [(id: String, target: [Double], factor: Double,
                                                                 name: String)], _ s: Setting) -> Check {
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    var w = WorstCase(.equal)
    for th in theorems {
        let g = rows.first { $0.setting.id == th.id && !$0.offPolicy }!.g
        let scale = 1 + g.map { Swift.abs($0) }.max()! + th.target.map { Swift.abs(th.factor * $0) }.max()!
            + s.maxLogProbability
        w.add(difference: zip(g, th.target).map { Swift.abs($0 - th.factor * $1) }.max()!,
              tolerance: roundingTolerance(terms: terms, scale: scale), at: "\(th.id): \(th.name)")
    }
    return w.check(id: "settings.follow",
                   claim: "On-policy, each library setting with a known target follows it exactly, scaled by its "
                    + "normaliser (\(theorems.count) settings)", reference: "beyond the paper",
                   aLabel: "$\\max |\\mathbb{E} \\nabla L - c \\nabla|$", bLabel: "0",
                   because: "two exact sums over N sequences and P prefixes, terms up to max|g| + max|log π|")
}
