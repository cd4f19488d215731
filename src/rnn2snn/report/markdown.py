"""``report.md``: stage accuracies beside the paper's, hardware, power, conversion causes."""

from __future__ import annotations

from rnn2snn.guard import stage_label

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


def _warnings(results: dict) -> list[str]:
    """The loss guard's warnings (rnn2snn.guard): each loss over 2 validation points, the
    remedies tried with their validation accuracy, and a small validation split."""
    warnings = results.get("warnings") or []
    if not warnings:
        return ["## Warnings", "", "None: no stage lost more than 2 points of validation accuracy "
                "and the validation split is large enough to choose on.", ""]
    lines = ["## Warnings", ""]
    for w in warnings:
        lines.append(f"- **{w['stage'] or 'validation'}**: {w['message']}")
        if w.get("remedies"):
            lines += ["", "  | remedy tried | validation accuracy | kept |", "  | --- | --- | --- |"]
            lines += [f"  | {r['name']} | {_pct(r['val_accuracy'])} | {'yes' if r['kept'] else 'no'} |"
                      for r in w["remedies"]]
            lines.append("")
    return lines + [""]


def render_report(results: dict, constants: list[dict], command: str = "", paper: bool = False) -> str:
    """Markdown text of a run from its ``results.json`` dict.

    ``paper``: the data are TREC's coarse labels, so the stage table is compared with
    Diehl et al. 2016's 74 % (a TREC-6 figure, meaningless for other data).
    """
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
        "Each row is measured right after its step"
        + (" (`given`: your model as read, before any training)"
           if any(s["name"] == "given" for s in results["stages"]) else "")
        + "; a retraining stage keeps its starting weights unless an epoch beats them on validation.",
        "",
        "| stage | test accuracy | validation accuracy | note |" + (" Diehl et al. 2016 |" if paper else ""),
        "| --- | --- | --- | --- |" + (" --- |" if paper else ""),
    ]
    for s in results["stages"]:
        note = "kept its starting weights" if s.get("kept_start") else ""
        ref = (_pct(PAPER["accuracy"]) + " (on chip)" if s["name"] == "spiking" else "") if paper else None
        lines.append(f"| {stage_label(s['name'])} | {_pct(s['test_accuracy'])} | {_pct(s['val_accuracy'])} "
                     f"| {note} |" + ("" if ref is None else f" {ref} |"))
    teacher = results.get("teacher")
    if teacher:
        lines.append(f"| float teacher ({teacher['model']}; off-chip, λ = {teacher['lambda']:g}, "
                     f"T = {teacher['temperature']:g}) | {_pct(teacher['test_accuracy'])} | "
                     f"{_pct(teacher['val_accuracy'])} | |" + (" |" if paper else ""))
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
        *_warnings(results),
        "## Hardware (recurrent layer on TrueNorth)",
        "",
    ]
    rows = [("cores", hw["cores"], PAPER["cores"]), ("axons", hw["axons"], ""),
            ("neurons (with copies)", hw["neurons"], ""), ("ticks per word", hw["ticks_per_word"], ""),
            ("recurrent delay (ticks)", hw["delay"], ""), ("threshold α", hw["threshold"], ""),
            ("power, core share (µW)", f"{hw['power_uw']:.2f}", f"~{PAPER['power_uw']:.0f}")]
    if "power_uw_activity" in hw:
        rows += [("power, activity based (µW)", f"{hw['power_uw_activity']:.2f}", ""),
                 ("synaptic events per word", f"{hw['synaptic_events_per_word']:.1f}", "")]
    if paper:
        lines += ["| quantity | this run | Diehl et al. 2016 |", "| --- | --- | --- |"]
        lines += [f"| {name} | {value} | {ref} |" for name, value, ref in rows]
    else:
        lines += ["| quantity | this run |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value, _ in rows]
    lines += ["", "Constants:", "", "| name | value | unit | source |", "| --- | --- | --- | --- |"]
    for c in constants:
        lines.append(f"| {c['name']} | {c['value']:.4g} | {c['unit']} | {c['source']} |")
    lines += [
        "",
        "## Conversion: integer network → spiking network",
        "",
        "Conversion loss (the program's integer network − its spiking run, test): "
        f"**{conv['loss_points']:+.1f} points**. "
        f"Predictions differ on {_pct(conv['prediction_differs_share'])} of the test questions. "
        f"Spike counts equal the integer activities in {_pct(conv['exact_share'])} of "
        f"{conv['neuron_windows']} neuron × word windows (mean |difference| "
        f"{conv['mean_abs_diff']:.2f}, largest {conv['max_abs_diff']}).",
        "",
    ]
    spk_acc = next(s["test_accuracy"] for s in results["stages"] if s["name"] == "spiking")
    int_acc = conv["test_integer_accuracy"]
    this_run = (int_acc, spk_acc, conv["prediction_differs_share"], conv)
    b = conv.get("before_spiking_finetune")
    if b:
        ft = conv.get("spiking_finetune") or {}
        if ft.get("kept_start"):
            kept = (f" **The fine-tune kept its starting weights**: none of its {ft['epochs_run']} "
                    "epochs beat them on validation, so before and after are the same network.")
        elif ft.get("best_epoch"):
            kept = f" Kept: epoch {ft['best_epoch']} of {ft['epochs_run']}."
        else:
            kept = ""
        lines += [
            "Fine-tuning against the spiking dynamics (forward on simulated spike counts, "
            "straight-through gradient of the integer network; epochs chosen on validation, the "
            "starting weights counting as epoch 0):" + kept,
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
