import BookKit
import Notebook

/// The opening section, "What this chapter finds": written after the study and the bridge have
/// run (it reads what they recorded and which of their checks held) and moved to the top of the
/// page. Every number in it is one the page records for its JSON twin, and every claim it makes
/// of a check is made only when that check held, so the sentences cannot outrun the page.
enum Opening {
    /// `betas` are the study's two temperatures, in the order their check names use
    /// (`klrl-beta`, `klrl-2beta`).
    static func write(_ page: Page, betas: [Double]) {
        let t = { (key: String) in Findings.text(page, key) }
        let has = { (key: String) in page.values[key] != nil }
        page.section(Findings.title)
        var parts: [String] = []
        var rows: [Findings.Row] = []
        if has("rl_kl_end") {
            parts.append(Findings.held(page, prefixes: ["rl."])
                ? "Plain RL collapses the prior: its entropy per token falls below half the prior's and its samples "
                    + "lose their diversity, \(t("rl_kl_end")) nats from $\\pi_0$ at the end."
                : "Plain RL does not collapse the prior on this run (a check fails); it "
                    + "ends \(t("rl_kl_end")) nats from $\\pi_0$.")
            rows.append(Findings.Row(#"plain RL: $\mathrm{KL}(\pi_T \| \pi_0)$"#, "rl_kl_end"))
        }
        for (b, name) in zip(betas, ["klrl-beta", "klrl-2beta"]) where has("kl_to_posterior_end_beta_\(b)") {
            let kept = Findings.held(page, prefixes: ["\(name)."])
                ? "keeps more than half the prior's entropy, its ELBO stays below $\\log Z(\\beta)$, and"
                : "fails a check of its section; on this run"
            let start = "kl_to_posterior_start_beta_\(b)", end = "kl_to_posterior_end_beta_\(b)"
            let ratio = "arrival_ratio_beta_\(b)", upper = "arrival_ratio_upper_beta_\(b)"
            parts.append("KL-regularised RL at $\\beta = \(NumberFormat.format(b))$ \(kept) its estimated distance "
                + "$\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$ goes from \(t(start)) to \(t(end)) nats, "
                + "\(t(ratio)) of the prior's (95% upper bound \(t(upper))).")
            rows.append(Findings.Row("KL-RL, $\\beta = \(NumberFormat.format(b))$: "
                                         + #"$\mathrm{KL}(\pi_\theta \| \pi^*_\beta)$ at the start"#,
                                     start))
            rows.append(Findings.Row("KL-RL, $\\beta = \(NumberFormat.format(b))$: the same at the end",
                                     end))
            rows.append(Findings.Row("KL-RL, $\\beta = \(NumberFormat.format(b))$: end over the prior's distance",
                                     ratio))
        }
        if has("dpg_forward_kl_end") {
            let moved = Findings.held(page, prefixes: ["dpg."])
                ? "raises the rate of texts that satisfy $b$ above the prior's and"
                : "fails a check of its section; on this run it"
            parts.append("DPG \(moved) brings the forward divergence $\\mathrm{KL}(\\pi^*_b \\| \\pi_\\theta)$ from "
                + "\(t("dpg_forward_kl_start")) to \(t("dpg_forward_kl_end")) nats, \(t("arrival_ratio_dpg")) of the "
                + "prior's (95% upper bound \(t("arrival_ratio_upper_dpg")))."
            )
            rows.append(Findings.Row(#"DPG: $\mathrm{KL}(\pi^*_b \| \pi_\theta)$ at the start"#,
                                     "dpg_forward_kl_start"))
            rows.append(Findings.Row("DPG: the same at the end", "dpg_forward_kl_end"))
            rows.append(Findings.Row("DPG: end over the prior's distance", "arrival_ratio_dpg"))
        }
        let ratios = betas.map { "arrival_ratio_beta_\($0)" } + ["arrival_ratio_dpg"]
        let ends = ratios.filter(has).map { (page.values[$0]!, page.values[$0.replacingOccurrences(
            of: "arrival_ratio_", with: "arrival_ratio_upper_")]!) }
        if !ends.isEmpty {
            let arrived = ends.filter { Checks.arrived(ratio: $0.0, upper: $0.1) }
            parts.append(arrived.count == ends.count
                ? "Every regularised method ends within 30% of its prior's distance to its target (shown, not checked)."
                : "\(arrived.isEmpty ? "None" : "Only \(arrived.count) of \(ends.count)") of the regularised methods "
                    + "ends within 30% of its prior's distance to its target: the fine-tuned model moves toward its "
                    + "posterior without reaching it on this budget, which is weaker than the goal "
                    + "(@fig:arrival-curves).")
        }
        if has("bridge_kl_end") {
            parts.append("On the enumerable bridge the same code "
                + (Findings.held(page, ["bridge.arrival"]) ? "does arrive" : "does not arrive (its check fails)")
                + ": the exact $\\mathrm{KL}(\\pi_\\theta \\| \\pi^*)$ goes from \(t("bridge_kl_start")) to "
                + "\(t("bridge_kl_end")) nats.")
            rows.append(Findings.Row(#"bridge: exact $\mathrm{KL}(\pi_\theta \| \pi^*)$ at the start"#,
                                     "bridge_kl_start"))
            rows.append(Findings.Row("bridge: the same at the end", "bridge_kl_end"))
        }
        page.prose(parts.joined(separator: " ") + " The numbers are in @tbl:findings.")
        Findings.table(page, rows, caption: "The run's headline numbers, as recorded in the JSON twin")
    }
}
