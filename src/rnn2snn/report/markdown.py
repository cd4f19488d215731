"""``report.md``: stage accuracies beside the paper's, hardware, power, conversion causes."""

from __future__ import annotations

PAPER = {"accuracy": 0.74, "power_uw": 17.0, "cores": 1}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _q(d: dict) -> str:
    return f"{d['median']:.2f} / {d['p90']:.2f} / {d['max']:.2f}"


def _mismatch_table(first_column: str, rows: list[tuple]) -> list[str]:
    """Integer vs spiking networks, one row each: (label, integer acc, spiking acc,
    share of predictions differing, count statistics of :func:`compare_counts`)."""
    first = f" {first_column}" if first_column else ""
    lines = [f"|{first} | integer net (test) | spiking net (test) | loss (points) | "
             "predictions differing | exact counts | mean abs diff | "
             "per-question mean abs diff: median / p90 / max |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, int_acc, spk_acc, differs, stats in rows:
        lines.append(f"| {label} | {_pct(int_acc)} | {_pct(spk_acc)} | {100 * (int_acc - spk_acc):+.1f} | "
                     f"{_pct(differs)} | {_pct(stats['exact_share'])} | {stats['mean_abs_diff']:.2f} | "
                     f"{_q(stats['per_question_mean_abs_diff'])} |")
    return lines


def _per_neuron(change: str, before: list[float], after: list[float]) -> str:
    return (f"Spike-count agreement per recurrent neuron (share of word windows exact), {change}: "
            + ", ".join(f"{x:.2f}→{y:.2f}" for x, y in zip(before, after, strict=True)))


def render_report(results: dict, constants: list[dict], command: str = "") -> str:
    """Markdown text of a run from its ``results.json`` dict."""
    hw, conv = results["hardware"], results["conversion"]
    lines = ["# rnn2snn run report", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [
        f"Seed {results['seed']}, wall time {results['wall_seconds']:.1f} s. "
        "Selection used the validation split only; test accuracy is reported, never used.",
        "",
        "## Accuracy by stage",
        "",
        "| stage | test accuracy | validation accuracy | Diehl et al. 2016 |",
        "| --- | --- | --- | --- |",
    ]
    for s in results["stages"]:
        paper = _pct(PAPER["accuracy"]) + " (on chip)" if s["name"] == "spiking" else ""
        lines.append(f"| {s['name']} | {_pct(s['test_accuracy'])} | {_pct(s['val_accuracy'])} "
                     f"| {paper} |")
    teacher = results.get("teacher")
    if teacher:
        lines.append(f"| float teacher ({teacher['model']}; off-chip, λ = {teacher['lambda']:g}, "
                     f"T = {teacher['temperature']:g}) | {_pct(teacher['test_accuracy'])} | "
                     f"{_pct(teacher['val_accuracy'])} | |")
    vec = results.get("vectors")
    if vec:
        lines += ["", f"Word vectors: {vec['source']}, {vec['found']} of {vec['vocabulary']} words "
                      f"found; {vec['unknown_words']}."]
    ens = results.get("ensemble")
    if ens:
        k = ens["members"]
        lines += ["", f"Ensemble of {k} members (seeds {', '.join(map(str, ens['member_seeds']))}), "
                      f"each on its own core(s) ({', '.join(map(str, ens['member_cores']))}); rule: "
                      f"{ens['rule']}. Every stage above is the ensemble's.", "",
                  "| members k | " + " | ".join(str(i) for i in range(1, k + 1)) + " |",
                  "| --- |" + " --- |" * k,
                  "| member k alone: spiking test | "
                  + " | ".join(_pct(a) for a in ens["member_spiking_test"]) + " |",
                  "| first k combined: spiking validation | "
                  + " | ".join(_pct(a) for a in ens["first_k_spiking_val"]) + " |",
                  "| first k combined: spiking test | "
                  + " | ".join(_pct(a) for a in ens["first_k_spiking_test"]) + " |"]
    lines += [
        "",
        "![accuracy by stage](accuracy_by_stage.png)",
        "",
        "## Hardware (recurrent layer on TrueNorth)",
        "",
        "| quantity | this run | Diehl et al. 2016 |",
        "| --- | --- | --- |",
        f"| cores | {hw['cores']} | {PAPER['cores']} |",
        f"| axons | {hw['axons']} | |",
        f"| neurons (with copies) | {hw['neurons']} | |",
        f"| ticks per word | {hw['ticks_per_word']} | |",
        f"| recurrent delay (ticks) | {hw['delay']} | |",
        f"| threshold α | {hw['threshold']} | |",
        f"| power, core share (µW) | {hw['power_uw']:.2f} | ~{PAPER['power_uw']:.0f} |",
    ]
    if "power_uw_activity" in hw:
        lines.append(f"| power, activity based (µW) | {hw['power_uw_activity']:.2f} | |")
        lines.append(f"| synaptic events per word | {hw['synaptic_events_per_word']:.1f} | |")
    lines += ["", "Constants:", "", "| name | value | unit | source |", "| --- | --- | --- | --- |"]
    for c in constants:
        lines.append(f"| {c['name']} | {c['value']:.4g} | {c['unit']} | {c['source']} |")
    lines += [
        "",
        "## Conversion: integer network → spiking network",
        "",
        f"Conversion loss (activities − spiking, test): **{conv['loss_points']:+.1f} points**. "
        f"Predictions differ on {_pct(conv['prediction_differs_share'])} of the test questions. "
        f"Spike counts equal the integer activities in {_pct(conv['exact_share'])} of "
        f"{conv['neuron_windows']} neuron × word windows (mean |difference| "
        f"{conv['mean_abs_diff']:.2f}, largest {conv['max_abs_diff']}).",
        "",
    ]
    int_acc, spk_acc = results["stages"][3]["test_accuracy"], results["stages"][4]["test_accuracy"]
    this_run = (int_acc, spk_acc, conv["prediction_differs_share"], conv)
    b = conv.get("before_spiking_finetune")
    if b:
        lines += [
            "Fine-tuning against the spiking dynamics (forward on simulated spike counts, "
            "straight-through gradient of the integer network; epochs chosen on validation):",
            "",
            *_mismatch_table("", [("before", b["test_integer_accuracy"], b["test_spiking_accuracy"],
                                   b["test_prediction_differs_share"], b), ("after", *this_run)]),
            "",
            _per_neuron("before → after", b["per_neuron_exact_share"], conv["per_neuron_exact_share"]),
            "",
        ]
    lines += [
        "Where the loss comes from — the conversion re-run with one design choice undone:",
        "",
        "| variant | cause probed | test accuracy | predictions differing | exact counts | mean abs diff |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in conv["ablation"]:
        lines.append(f"| {row['variant']} | {row['cause']} | {_pct(row['accuracy'])} | "
                     f"{_pct(row['prediction_differs_share'])} | {_pct(row['exact_share'])} | "
                     f"{row['mean_abs_diff']:.2f} |")
    cleared = conv.get("integer_net_cleared_each_word")
    if cleared:
        lines += [
            "",
            "Membrane carried between words: the integer network trained here keeps each "
            "word's leftover potential, as the neurons do. The same weights read by an "
            "integer network that clears it each word (Diehl et al.'s) against the spike counts:",
            "",
            *_mismatch_table("integer network", [
                ("membrane cleared each word", cleared["test_accuracy"], spk_acc,
                 cleared["prediction_differs_share"], cleared),
                ("membrane carried (this run)", *this_run)]),
            "",
            _per_neuron("cleared → carried", cleared["per_neuron_exact_share"],
                        conv["per_neuron_exact_share"]),
        ]
    agreement = conv.get("input_schedule_val_agreement")
    if agreement:
        lines += [
            "",
            f"Input schedule: **{conv['input_schedule']}**, chosen on validation agreement "
            "between integer and spiking predictions ("
            + ", ".join(f"{k} {_pct(v)}" for k, v in agreement.items()) + ").",
        ]
    lines += [
        "",
        "Design (see README): each word is a window of T ticks; an input level c is c spikes "
        "in the window (at its start, or spread over it); recurrent spikes travel with delay "
        "d = T so they land in the next word's window at the position they left; linear reset "
        "makes the count floor(input/α) and keeps the remainder, which the integer network "
        "carries too; the negative threshold β = α with saturation stops inhibition from "
        "one word silencing the next.",
        "",
        "![count mismatch](count_mismatch.png)",
        "",
        "## Spike raster",
        "",
        "![raster](raster.png)",
        "",
    ]
    return "\n".join(lines)
