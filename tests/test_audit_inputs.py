"""The fault audit's model and data cases (issue 16, item 5): each ends in an early error that
names the problem and its place, or in correct behaviour."""

import json
import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rnn2snn
from rnn2snn.config import PipelineConfig, TrainConfig
from rnn2snn.errors import DataFormatError, ModelFileError
from rnn2snn.model.from_torch import UnsupportedModelError, read_torch_model

QUICK = PipelineConfig(train=TrainConfig(epochs=1), finetune=TrainConfig(epochs=1),
                       spiking_finetune=TrainConfig(epochs=0))


class Net(nn.Module):
    """Embedding (or features) → Linear+ReLU → RNN → Linear, last step; ``twist`` changes forward."""

    def __init__(self, tokens=True, twist=None, classes=3, rnn_dropout=0.0, layers=1):
        super().__init__()
        self.emb = nn.Embedding(40, 8) if tokens else None
        self.proj, self.relu = nn.Linear(8, 6), nn.ReLU()
        self.rnn = nn.RNN(6, 5, num_layers=layers, nonlinearity="relu", batch_first=True,
                          dropout=rnn_dropout)
        self.out = nn.Linear(5, classes)
        self.twist = twist

    def forward(self, x, lengths):
        v = self.emb(x) if self.emb is not None else x
        h, _ = self.rnn(self.relu(self.proj(v)))
        last = h[torch.arange(len(lengths)), lengths - 1]
        if self.twist == "residual":
            last = last + 1.0
        logits = self.out(last)
        return logits * 2 if self.twist == "scale" else logits


class Reordered(nn.Module):
    """Registers the readout first and the projection last: forward calls them the other way."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(5, 3)
        self.rnn = nn.RNN(6, 5, nonlinearity="relu", batch_first=True)
        self.relu = nn.ReLU()
        self.proj = nn.Linear(8, 6)
        self.emb = nn.Embedding(40, 8)

    def forward(self, x, lengths):
        h, _ = self.rnn(self.relu(self.proj(self.emb(x))))
        return self.out(h[torch.arange(len(lengths)), lengths - 1])


def _data(n, tokens=True, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 9, n)
    labels = rng.integers(0, 3, n)
    if tokens:
        x = rng.integers(4, 40, (n, 8))
        x[np.arange(n), rng.integers(0, lengths)] = labels + 1
    else:
        x = rng.normal(size=(n, 8, 8)).astype(np.float32)
    x[np.arange(8)[None, :] >= lengths[:, None]] = 0
    return x, lengths, labels


def convert(model, train, test, **kw):
    return rnn2snn.convert_model(model, train, test, pooling=kw.pop("pooling", "last"),
                                 config=kw.pop("config", QUICK), progress=False, log=lambda *_: None, **kw)


def check(model, train, test=None, **kw):
    """What convert_model refuses with, checked without training (it must refuse up front)."""
    from rnn2snn.model.user_data import check_user_inputs

    return check_user_inputs(model, train, _data(20, seed=1) if test is None else test,
                             pooling=kw.pop("pooling", "last"), config=kw.pop("config", QUICK), **kw)


# -- a. forward that does what the reader cannot see -------------------------------------------
@pytest.mark.parametrize("twist", ["scale", "residual"])
def test_a_forward_the_reader_cannot_see_is_refused_with_the_difference(twist):
    torch.manual_seed(0)
    with pytest.raises(UnsupportedModelError, match=r"computes something the reader cannot see.*differ "
                       r"from the model's own by up to \d.*first 20 rows of train_data"):
        check(Net(twist=twist), _data(20))


def test_a_wrong_pooling_is_refused_too():
    torch.manual_seed(0)
    with pytest.raises(UnsupportedModelError, match="pooling='mean'.*differ"):
        check(Net(), _data(20), pooling="mean")


def test_a_the_models_own_forward_matches_and_its_mode_is_kept():
    torch.manual_seed(0)
    user = Net().train()
    user.proj.eval()
    before = {k: v.clone() for k, v in user.state_dict().items()}
    out = check(user, _data(30))
    assert out.model.config.hidden_dim == 5
    assert user.training and not user.proj.training and user.rnn.training  # modes restored
    assert all(torch.equal(before[k], v) for k, v in user.state_dict().items())  # not changed


def test_a_a_model_not_callable_as_model_inputs_lengths_is_told_how():
    model = nn.Sequential(nn.Embedding(40, 8), nn.Linear(8, 6), nn.ReLU(),
                          nn.RNN(6, 5, nonlinearity="relu", batch_first=True), nn.Linear(5, 3))
    with pytest.raises(UnsupportedModelError, match=r"calling it on the first 20 rows of train_data raised "
                       r"TypeError.*model\(inputs, lengths\).*LongTensor \(N, L\)"):
        check(model, _data(20))

    class Pair(Net):
        def forward(self, x, lengths):
            return super().forward(x, lengths), None

    with pytest.raises(UnsupportedModelError, match=r"returned tuple.*logits \(N, classes\) as one tensor"):
        check(Pair(), _data(20))


# -- b. negative token ids, -1 padding ----------------------------------------------------------
@pytest.mark.parametrize("which", ["train_data", "val_data", "test_data"])
def test_b_negative_token_ids_are_refused_naming_the_set_and_row(which):
    sets = {"train_data": _data(30), "val_data": _data(10, seed=2), "test_data": _data(10, seed=1)}
    x, n, y = sets[which]
    x = x.copy()
    x[4, n[4]:] = -1  # -1 padding after row 4's end
    sets[which] = (x, n, y)
    with pytest.raises(DataFormatError, match=rf"{which}: row 4, position {n[4]} holds token id -1.*pad "
                       "with 0"):
        check(Net(), sets["train_data"], sets["test_data"], val_data=sets["val_data"])


def test_b_token_ids_beyond_the_embedding_name_the_row():
    x, n, y = _data(30)
    x = x.copy()
    x[7, 0] = 40
    with pytest.raises(DataFormatError, match=r"train_data: row 7, position 0 holds token id 40, outside "
                       r"the embedding \(40 rows: ids 0…39\)"):
        check(Net(), (x, n, y))


# -- c. too few training examples ----------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 3])
def test_c_empty_or_tiny_train_sets_are_refused_with_the_minimum(n):
    x, lengths, y = _data(max(n, 1))
    with pytest.raises(DataFormatError, match=rf"train_data: {n} examples?; at least 10 needed"):
        check(Net(), (x[:n], lengths[:n], y[:n]))


def test_c_a_train_set_that_leaves_no_validation_is_refused():
    x, n, y = _data(12)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])  # 4 a class: 10 % of 4 rounds to 0
    with pytest.raises(DataFormatError, match="12 examples leave no validation example.*val_data"):
        check(Net(), (x, n, y))


# -- d. float labels, float lengths ---------------------------------------------------------------
def test_d_fractional_labels_are_refused_not_cast():
    x, n, y = _data(30)
    labels = y.astype(np.float64)
    labels[5] = 0.7
    with pytest.raises(DataFormatError, match=r"train_data: labels must be whole numbers \(class "
                       r"indices.*\); row 5 holds 0\.7"):
        check(Net(), (x, n, labels))
    # whole-valued floats (a pandas column) are exact class indices: accepted
    assert check(Net(), (x, n, y.astype(np.float32))).fit.labels.dtype == np.int64


def test_d_fractional_lengths_are_refused():
    x, n, y = _data(30)
    lengths = n.astype(np.float32)
    lengths[2] = 2.5
    with pytest.raises(DataFormatError, match=r"train_data: lengths must be whole numbers \(counts of "
                       r"steps\); row 2 holds 2\.5"):
        check(Net(), (x, lengths, y))


# -- e. 1-D inputs -------------------------------------------------------------------------------------
def test_e_one_dimensional_inputs_are_refused_naming_the_shapes_accepted():
    x, n, y = _data(30)
    with pytest.raises(DataFormatError, match=r"train_data: inputs of shape \(30,\); expected token ids "
                       r"\(N, L\) of integers, or features \(N, L, F\)"):
        check(Net(), (x[:, 0], n, y))


# -- f. val_data that does not match the model -----------------------------------------------------
def test_f_val_data_labels_and_features_are_checked_against_the_model():
    x, n, y = _data(10, seed=2)
    with pytest.raises(DataFormatError, match=r"val_data: row \d+ has label [3-9]; labels must lie in 0…2"):
        check(Net(), _data(30), val_data=(x, n, y + 3))
    features = _data(30, tokens=False)
    xv, nv, yv = _data(10, tokens=False, seed=2)
    with pytest.raises(DataFormatError, match="val_data: 5 features a step, the model reads 8"):
        check(Net(tokens=False), features, _data(10, tokens=False, seed=1), val_data=(xv[:, :, :5], nv, yv))


# -- g. one-class readout ----------------------------------------------------------------------------
def test_g_a_one_class_readout_is_refused_up_front():
    with pytest.raises(UnsupportedModelError, match="readout has 1 output; a classifier needs at least 2"):
        read_torch_model(Net(classes=1), "last")
    x, n, y = _data(30)
    with pytest.raises(DataFormatError, match="train_data: every label is 0; .*at least 2 classes"):
        check(Net(), (x, n, np.zeros_like(y)))


# -- h. dropout of a stacked nn.RNN ----------------------------------------------------------------
def test_h_stacked_rnn_dropout_is_used_and_recorded():
    torch.manual_seed(0)
    out = check(Net(layers=2, rnn_dropout=0.3), _data(30))
    assert out.model.config.dropout == pytest.approx(0.3)
    assert out.config.dropout == pytest.approx(0.3)  # what the provenance records
    out = check(Net(), _data(30))
    assert out.model.config.dropout == 0.0 and out.config.dropout == 0.0  # not the 0.25 default
    assert (out.config.hidden_dim, out.config.proj_dim, out.config.embed_dim) == (5, 6, 8)


def test_h_provenance_records_the_dropout_and_sizes_used():
    torch.manual_seed(0)
    result = convert(Net(layers=2, rnn_dropout=0.3), _data(60), _data(20, seed=1))
    recorded = result.program.provenance["config"]
    assert recorded["dropout"] == pytest.approx(0.3) and recorded["hidden_dim"] == 5
    assert result.model.config.dropout == pytest.approx(0.3)


# -- i. registration order ---------------------------------------------------------------------------
def test_i_modules_are_read_in_the_order_forward_calls_them():
    torch.manual_seed(0)
    user = Reordered().eval()
    with pytest.raises(UnsupportedModelError, match="registration order here.*give an example"):
        read_torch_model(user, "last")
    x, n, _ = _data(5)
    example = (torch.from_numpy(x), torch.from_numpy(n))
    ours = read_torch_model(user, "last", example).eval()
    assert torch.allclose(ours(*example), user(*example), atol=1e-5)
    assert check(Reordered(), _data(30)).model.config.proj_dim == 6


def test_i_a_shared_layer_called_twice_is_refused():
    class Twice(Net):
        def forward(self, x, lengths):
            h, _ = self.rnn(self.relu(self.proj(self.emb(x))))
            h, _ = self.rnn(h[..., :6] if h.shape[-1] >= 6 else torch.cat([h, h[..., :1]], -1))
            return self.out(h[torch.arange(len(lengths)), lengths - 1])

    with pytest.raises(UnsupportedModelError, match="'rnn'.*called 2 times in forward"):
        check(Twice(), _data(20))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=10, max_size=30), st.integers(0, 2 ** 31))
def test_valid_data_passes_and_keeps_every_row(lengths, seed):
    """Any well-formed data set passes the checks unchanged (nothing dropped, nothing cast)."""
    rng = np.random.default_rng(seed)
    n = np.array(lengths)
    x = rng.integers(1, 40, (len(n), 8)) * (np.arange(8)[None, :] < n[:, None])
    y = np.arange(len(n)) % 3
    from rnn2snn.data.sequences import as_sequences

    seq = as_sequences((torch.from_numpy(x), n, y), "train_data")
    assert np.array_equal(seq.inputs[:, : n.max()], x[:, : n.max()]) and np.array_equal(seq.labels, y)


# -- simulate_program / run_integer / predict_texts --------------------------------------------------
def _program(tokens=True):
    from rnn2snn.program.network import SpikingConfig
    from rnn2snn.program.spec import FeatureEncoder, Readout, RecurrentLayer, SpikingProgram, TokenEncoder

    if tokens:
        encoder = TokenEncoder(np.array([[0, 0, 0], [1, 0, 2], [5, 3, 0], [0, 9, 15]]),
                               ("<pad>", "<unk>", "what", "who"))
    else:
        encoder = FeatureEncoder(np.eye(3, dtype=np.float32) * 4, np.zeros(3, dtype=np.float32))
    layer = RecurrentLayer(w_in=np.array([[3, -2, 1], [0, 4, -8]]), w_rec=np.array([[1, 0], [-1, 2]]),
                           threshold=4, w_bias=np.array([1, -1]))
    return SpikingProgram(encoder=encoder, layers=(layer,), timing=SpikingConfig(),
                          readout=Readout("mean", np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2)),
                          classes=("HUM", "NUM"))


IDS = np.array([[2, 3, 0], [3, 2, 1]])


@pytest.mark.parametrize("lengths, message", [
    (None, "lengths: missing; give one length"),
    (np.array([2, 0]), r"inputs: row 1 has length 0; lengths must lie in 1…3"),
    (np.array([-1, 2]), r"inputs: row 0 has length -1; lengths must lie in 1…3"),
    (np.array([2, 4]), r"inputs: row 1 has length 4; lengths must lie in 1…3 \(the padded length"),
    (np.array([2, 3, 1]), r"inputs: 2 rows of inputs, 3 lengths \(one length a row\)"),
    (np.array([2.5, 3]), r"lengths must be whole numbers \(counts of steps\); row 0 holds 2\.5"),
    (3, r"lengths: one number \(.*\); give one length a row, shape \(2,\)"),
])
@pytest.mark.parametrize("run", ["simulate_program", "run_integer"])
def test_program_runs_refuse_bad_lengths_naming_the_row(lengths, message, run):
    import rnn2snn.program as programs

    with pytest.raises(DataFormatError, match=message):
        getattr(programs, run)(_program(), IDS, lengths)


def test_program_runs_refuse_float_ids_nan_features_and_unknown_ids():
    from rnn2snn.program import simulate_program

    with pytest.raises(DataFormatError, match="inputs: token ids must be integers, got float64"):
        simulate_program(_program(), IDS.astype(float), np.array([2, 3]))
    with pytest.raises(DataFormatError, match=r"inputs: row 1, position 0 holds token id 4, outside the "
                       r"program's vocabulary \(ids 0…3\)"):
        simulate_program(_program(), np.array([[2, 3], [4, 0]]), np.array([2, 1]))
    with pytest.raises(DataFormatError, match=r"inputs: row 0, position 1 holds token id -1.*≥ 0"):
        simulate_program(_program(), np.array([[2, -1], [3, 0]]), np.array([1, 1]))
    features = np.ones((2, 3, 3), dtype=np.float32)
    features[1, 2, 0] = np.nan
    with pytest.raises(DataFormatError, match=r"inputs: row 1, step 2, feature 0 is nan; features must be "
                       "finite"):
        simulate_program(_program(tokens=False), features, np.array([3, 3]))
    with pytest.raises(DataFormatError, match=r"inputs: shape \(2, 3\); this program reads features "
                       r"\(N, L, 3\)"):
        simulate_program(_program(tokens=False), IDS, np.array([3, 3]))


def test_program_runs_accept_good_inputs_unchanged():
    from rnn2snn.program import run_integer, simulate_program

    a = simulate_program(_program(), IDS, [2, 3])  # a list of lengths is fine
    b = run_integer(_program(), IDS.tolist(), np.array([2, 3], dtype=np.int32))
    assert a.logits.shape == b.logits.shape == (2, 2)


def test_predict_texts_refuses_what_is_not_a_list_of_strings():
    from rnn2snn.predict import predict_texts

    program = _program()
    with pytest.raises(DataFormatError, match=r"texts: expected a list of strings, got str \(one text: "
                       r"pass \[text\]\)"):
        predict_texts(program, "who is it")
    with pytest.raises(DataFormatError, match=r"texts\[1\]: expected a string, got bytes \(decode"):
        predict_texts(program, ["who", b"what"])
    assert [p.label for p in predict_texts(program, ["what who", "who"])] != []


def test_predict_texts_refuses_a_text_too_long_to_answer_in_time():
    """The API, like ``rnn2snn predict``, bounds a text (audit: a 1 MB question ran 89 s)."""
    from rnn2snn.predict import predict_texts

    program = _program()
    start = time.perf_counter()
    with pytest.raises(DataFormatError, match=r"^texts\[1\]: .* is longer than a question may be "
                       r"\(10,000 characters: 50 per word of max_words 200\); split it, or raise max_words"):
        predict_texts(program, ["who", "x" * 1_000_000])
    with pytest.raises(DataFormatError, match=r"^texts\[0\]: 4 words, more than max_words 3; split it"):
        predict_texts(program, ["who what who what"], max_words=3)
    with pytest.raises(DataFormatError, match=r"max_words: expected an integer ≥ 1, got 0"):
        predict_texts(program, ["who"], max_words=0)
    assert time.perf_counter() - start < 2
    assert len(predict_texts(program, ["who what who"], max_words=3)) == 1


# -- load_program ranges ------------------------------------------------------------------------------
def _saved(tmp_path, edit_tree=None, edit_arrays=None):
    """A saved program folder, its program.json and arrays edited as a user (or a fault) would."""
    import hashlib

    from safetensors.numpy import save_file

    from rnn2snn.program.io import program_to_files

    tree, arrays = program_to_files(_program())
    if edit_arrays:
        edit_arrays(arrays)
    folder = tmp_path / "p"
    folder.mkdir()
    save_file(arrays, str(folder / "program.safetensors"))
    tree["sha256"] = {"program.safetensors": hashlib.sha256(
        (folder / "program.safetensors").read_bytes()).hexdigest()}
    if edit_tree:
        edit_tree(tree)
    (folder / "program.json").write_text(json.dumps(tree))
    return folder


def _set(path, value):
    def edit(tree):
        *parents, last = path
        node = tree
        for k in parents:
            node = node[k]
        node[last] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set(["layers", 0, "threshold"], 10 ** 9), r"program\.json: layers\[0\]\.threshold: 1000000000 at "
     r"index 0 is outside 1…262143 \(the hardware's threshold α, ≥ 1\)"),
    (_set(["layers", 0, "threshold"], 0), r"program\.json: layers\[0\]\.threshold: 0 at index 0 is outside"),
    (_set(["timing", "neg_threshold"], -3), r"program\.json: timing\.neg_threshold: -3 is outside 0…262143"),
    (_set(["version"], True), r"program\.json: version: expected an integer, got True"),
    (_set(["layers", 0, "levels"], 1), r"program\.json: layers\[0\]\.levels: must be an integer ≥ 2"),
    (_set(["timing", "delay"], 16), r"program\.json: timing: delay=16 is outside the hardware range 1…15"),
    (_set(["timing", "neg_saturate"], 2), r"program\.json: timing\.neg_saturate: must be 0 or 1"),
])
def test_load_program_refuses_out_of_range_fields_naming_file_and_field(tmp_path, edit, message):
    from rnn2snn.program import load_program

    with pytest.raises(ModelFileError, match=message):
        load_program(_saved(tmp_path, edit_tree=edit))


@pytest.mark.parametrize("name, index, value, message", [
    ("layers.0.w_in", (0, 1), 9, r"program\.safetensors: layers\.0\.w_in: 9 at index \(0, 1\) is outside "
     r"-8…7 \(on-chip weights have 16 levels"),
    ("layers.0.w_rec", (1, 1), -9, r"program\.safetensors: layers\.0\.w_rec: -9 at index \(1, 1\)"),
    ("layers.0.w_bias", (0,), 8, r"program\.safetensors: layers\.0\.w_bias: 8 at index 0 is outside -8…7"),
    ("encoder.table", (2, 0), 16, r"program\.safetensors: encoder\.table: 16 at index \(2, 0\) is outside "
     r"0…15"),
])
def test_load_program_refuses_weights_outside_the_16_levels(tmp_path, name, index, value, message):
    from rnn2snn.program import load_program

    def edit(arrays):
        arrays[name][index] = value

    with pytest.raises(ModelFileError, match=message):
        load_program(_saved(tmp_path, edit_arrays=edit))


def test_a_good_program_loads_and_runs_the_same(tmp_path):
    from rnn2snn.program import load_program, simulate_program

    loaded = load_program(_saved(tmp_path))
    assert np.array_equal(simulate_program(loaded, IDS, [2, 3]).counts,
                          simulate_program(_program(), IDS, [2, 3]).counts)


# -- data files -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lines, message", [
    (["pos\tgood film", "very good\tfine movie", "neg\tbad one"],
     r"f\.txt:2: the label field before the tab, 'very good', holds a space; the label is the line's first "
     r"word \(here 'very'\), so write it as one word, e.g\. 'very_good'"),
    (["pos good", '"very good" film', "neg bad"],
     r"f\.txt:2: the label '\"very good\"' is quoted and holds a space.*'very_good'"),
])
def test_a_label_with_a_space_is_an_error_not_a_new_class(lines, message):
    from rnn2snn.data.text import parse_labeled_lines

    with pytest.raises(DataFormatError, match=message):
        parse_labeled_lines(lines, "f.txt")


def test_a_tab_inside_the_text_of_a_space_separated_file_is_text():
    from rnn2snn.data.text import parse_labeled_lines

    examples = parse_labeled_lines(["pos good\tfilm", "neg bad film", "neg dull"], "f.txt")
    assert examples.labels == ["pos", "neg", "neg"]


@pytest.mark.parametrize("content, message", [
    (b"the 0.1 0.2 0.3\ncat 0.1 0.2\n", r"v\.txt:2: 2 values after the word, expected 3 \(as on the first "
     r"line\): 'cat 0\.1 0\.2'"),
    (b"the 0.1 0.2 0.3\ncat 0.1 abc 0.3\n", r"v\.txt:2: 'abc' is not a number: 'cat 0\.1 abc 0\.3'"),
    (b"the 0.1 0.2 0.3\ncat \xff\xfe\x00 0.2 0.3\n", r"v\.txt:2: not UTF-8 text \(byte 4\): "
     r"'cat \\xff\\xfe\\x00 0\.2 0\.3'$"),
    (b"the 0.1 0.2 0.3\ncat 0.1\n", r"^vectors file .*v\.txt:2: 1 value after the word, expected 3 \(as on "
     r"the first line\): 'cat 0\.1'$"),
    (b"2 3\nthe 0.1 0.2 0.3\ncat 0.1\n", r"v\.txt:3: 1 value after the word, expected 3 "
     r"\(as the header says\)"),
    (b"the 0.1 0.2 0.3\ncat 0.1 nan 0.3\n", r"v\.txt:2: 'nan' is not a finite number: 'cat 0\.1 nan 0\.3'$"),
    (b"the 0.1 -inf 0.3\ncat 0.1 0.2 0.3\n", r"v\.txt:1: '-inf' is not a finite number"),
    (b"5 3\nthe 0.1 0.2 0.3\ncat 0.1 0.2 0.3\n", r"v\.txt:1: the header says 5 words, the file has 2"),
    (b"", r"v\.txt: the file is empty"),
])
def test_malformed_vector_files_name_the_line_and_quote_it_escaped(tmp_path, content, message):
    from rnn2snn.data.text import Vocabulary
    from rnn2snn.model.vectors import load_vectors

    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as err:
        load_vectors(path, Vocabulary(["<pad>", "<unk>", "the", "cat"]), 3)
    assert str(err.value).isprintable()  # no raw control bytes reach the terminal


# -- API errors name parameters, the CLI their flags -------------------------------------------------
def test_api_errors_name_the_parameter_and_the_cli_adds_the_flag(capsys):
    from rnn2snn.checks import ParameterError, with_flags
    from rnn2snn.data.text import Examples

    ex = Examples([["what", "is", "it"]] * 20, ["A", "B"] * 10, "train")
    with pytest.raises(ParameterError) as err:
        rnn2snn.run_pipeline(ex, ex, replace(PipelineConfig(), hidden_dim=0), progress=False)
    assert str(err.value).startswith("hidden_dim=0 must be ≥ 1") and err.value.parameter == "hidden_dim"
    assert with_flags(str(err.value)).startswith("hidden_dim=0 (--hidden-dim) must be ≥ 1")
    assert with_flags("delay=16 (--delay) must") == "delay=16 (--delay) must"  # never twice


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 6), min_size=0, max_size=4))
def test_a_program_runs_exactly_when_every_row_has_a_length_in_1_to_l(lengths):
    """One length a row, each in 1…L (L = 3): runs; anything else: DataFormatError, never a traceback."""
    from rnn2snn.program import run_integer

    ok = len(lengths) == len(IDS) and all(1 <= n <= IDS.shape[1] for n in lengths)
    if ok:
        assert run_integer(_program(), IDS, np.array(lengths)).logits.shape == (2, 2)
    else:
        with pytest.raises(DataFormatError, match=r"^(inputs|lengths): "):
            run_integer(_program(), IDS, np.array(lengths, dtype=np.int64))


def test_ragged_inputs_and_bad_batches_are_named():
    from rnn2snn.data.sequences import as_sequences
    from rnn2snn.program import simulate_program

    with pytest.raises(DataFormatError, match="inputs: cannot be read as an array.*pad the rows"):
        simulate_program(_program(), [[2, 3], [1]], [2, 1])
    x, n, y = _data(20)
    loader = [(torch.from_numpy(x[:10]), torch.from_numpy(n[:10]), torch.from_numpy(y[:10])),
              (torch.from_numpy(x[10:]), torch.from_numpy(n[10:]), torch.from_numpy(y[10:]).float() + 0.5)]
    with pytest.raises(DataFormatError, match=r"train_data batch 1: labels must be whole numbers"):
        as_sequences(loader, "train_data")
