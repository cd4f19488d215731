import hashlib
import os
import pathlib
import time
import tomllib
import urllib.error
from collections import Counter
from fnmatch import fnmatch
from importlib import resources

import numpy as np
import pytest

from rnn2snn.data import (
    check_encoding,
    load_trec,
    parse_labeled_lines,
    read_labeled_file,
    read_lines,
    stratified_split,
    tokenize,
)
from rnn2snn.data import trec as trec_mod
from rnn2snn.data.text import Vocabulary, encode
from rnn2snn.errors import DataFormatError, DataUnavailableError, Rnn2SnnError

REPO = pathlib.Path(__file__).resolve().parents[1]


class Response:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def no_network(*args, **kwargs):
    raise urllib.error.URLError("no network")


@pytest.fixture
def serve_trec(monkeypatch):
    """A fake original distribution serving the packaged bytes; returns the list of URLs asked."""
    served = []
    files = {name: trec_mod.read_packaged(name) for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE)}

    def fake_urlopen(url, timeout):
        served.append(url)
        return Response(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(trec_mod.urllib.request, "urlopen", fake_urlopen)
    return served


# --- TREC, packaged --------------------------------------------------------------------------------
def test_trec_files_parse_with_readme_counts(trec):
    train, test = trec
    assert len(train) == 5452 and len(test) == 500
    assert Counter(train.labels) == {"ABBR": 86, "DESC": 1162, "ENTY": 1250, "HUM": 1223,
                                     "LOC": 835, "NUM": 896}
    assert Counter(test.labels)["NUM"] == 113
    # line 66 holds byte 0xF0, decoded as ISO-8859-1
    assert "sister\xf0city" in " ".join(train.texts[65])
    assert "trec_files" in train.source


def test_packaged_copy_is_the_original_and_needs_no_network(tmp_path, monkeypatch):
    monkeypatch.setattr(trec_mod.urllib.request, "urlopen", no_network)
    monkeypatch.setenv(trec_mod.ENV_CACHE, str(tmp_path / "empty-cache"))
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE):
        data = resources.files("rnn2snn.data").joinpath("trec_files").joinpath(name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == trec_mod.PACKAGED_SHA256[name]
        assert trec_mod.PACKAGED_SHA256[name] in trec_mod.KNOWN_SHA256[name]
    train, test = load_trec()
    assert len(train) == 5452 and len(test) == 500
    assert not (tmp_path / "empty-cache").exists()
    folder = trec_mod.locate_trec()
    assert (folder / trec_mod.TRAIN_FILE).read_bytes() == trec_mod.read_packaged(trec_mod.TRAIN_FILE)


def test_packaged_files_are_declared_as_package_data():
    """A wheel carries the TREC files only if pyproject's package-data globs name them."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["rnn2snn.data"]
    for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE, "README.md"):
        assert any(fnmatch(f"{trec_mod.PACKAGED_DIR}/{name}", g) for g in globs), name
    note = (REPO / "src/rnn2snn/data/trec_files/README.md").read_text()
    for fact in ("Li", "Roth", "COLING 2002", trec_mod.BASE_URL, "ISO-8859-1",
                 *trec_mod.PACKAGED_SHA256.values()):
        assert fact in note


def test_damaged_or_missing_packaged_copy_is_refused(tmp_path, monkeypatch, serve_trec):
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    monkeypatch.setenv(trec_mod.ENV_CACHE, str(tmp_path / "cache"))
    fake = tmp_path / "pkg"
    fake.mkdir()
    for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE):
        (fake / name).write_bytes(trec_mod.read_packaged(name))
    (fake / trec_mod.TEST_FILE).write_bytes(b"NUM:dist How far ?\n")
    monkeypatch.setattr(trec_mod, "_packaged", lambda name: fake / name)
    with pytest.raises(DataFormatError, match=r"damaged: trec_files/TREC_10.label has sha256"):
        load_trec()
    (fake / trec_mod.TEST_FILE).unlink()
    with pytest.raises(DataUnavailableError, match=r"missing \(trec_files/TREC_10.label\)"):
        load_trec()
    assert not serve_trec  # nothing downloaded unless asked
    train, test = load_trec(allow_download=True)  # asked: into the user cache, validated
    assert len(test) == 500 and len(serve_trec) == 2
    assert (tmp_path / "cache" / "trec" / trec_mod.TEST_FILE).is_file()


def test_fine_labels_and_bad_label_set():
    train, test = load_trec(labels="fine")
    assert len(set(train.labels)) == 50 and len(set(test.labels)) == 42
    assert set(test.labels) <= set(train.labels)
    assert all(label.split(":")[0] in trec_mod.COARSE_CLASSES for label in train.labels)
    with pytest.raises(DataFormatError, match="labels must be 'coarse' or 'fine'"):
        load_trec(labels="medium")


# --- TREC, a folder or a download ------------------------------------------------------------------
def test_data_dir_and_environment_variable(tmp_path, monkeypatch, trec_dir):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE):
        (folder / name).write_bytes((trec_dir / name).read_bytes())
    train, _ = load_trec(folder)
    assert train.source == str(folder / trec_mod.TRAIN_FILE)
    monkeypatch.setenv(trec_mod.ENV_DATA_DIR, str(folder))
    train, _ = load_trec()
    assert train.source == str(folder / trec_mod.TRAIN_FILE)


def test_missing_data_dir_names_flag_packaged_copy_and_url(tmp_path, monkeypatch):
    monkeypatch.setattr(trec_mod.urllib.request, "urlopen", no_network)
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    with pytest.raises(DataUnavailableError) as err:
        load_trec(tmp_path / "nowhere")
    msg = str(err.value)
    assert "--data-dir" in msg and "inside the package" in msg and trec_mod.BASE_URL in msg
    with pytest.raises(DataUnavailableError, match="could not be downloaded") as err:
        load_trec(tmp_path / "nowhere", allow_download=True)
    assert not (tmp_path / "nowhere" / trec_mod.TRAIN_FILE).exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(DataFormatError, match="is a file, not a folder"):
        load_trec(a_file)


def test_download_into_data_dir_validates_and_is_used_once(tmp_path, monkeypatch, serve_trec):
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    target = tmp_path / "dl"
    train, test = load_trec(target, allow_download=True)
    assert len(train) == 5452 and len(serve_trec) == 2
    assert serve_trec[0].startswith(trec_mod.BASE_URL)
    cached = target / trec_mod.TRAIN_FILE
    assert hashlib.sha256(cached.read_bytes()).hexdigest() in trec_mod.KNOWN_SHA256[cached.name]
    load_trec(target, allow_download=True)  # second time from the folder
    assert len(serve_trec) == 2


def test_download_of_wrong_file_is_refused():
    with pytest.raises(DataFormatError, match="expected 500"):
        trec_mod.validate_trec(b"NUM:dist How far ?\nHUM:ind Who ?\n" * 10, trec_mod.TEST_FILE)


def test_trec_label_must_be_coarse_fine():
    with pytest.raises(DataFormatError, match=r"x.label:2: label 'FOO' is not a TREC label"):
        trec_mod.parse_trec(b"NUM:dist How far ?\nFOO bar ?\n", "x.label")


# --- tokenizer --------------------------------------------------------------------------------------
def test_tokenizer_splits_what_users_type_like_trec():
    assert tokenize("What is the capital of Peru?") == ["what", "is", "the", "capital", "of", "peru", "?"]
    assert tokenize("What is the capital of Peru ?") == tokenize("What is the capital of Peru?")
    assert tokenize("What's Peru's capital?!") == ["what", "'s", "peru", "'s", "capital", "?", "!"]
    assert tokenize('Who wrote "Hamlet"?') == ["who", "wrote", "``", "hamlet", "''", "?"]
    assert tokenize("Who wrote \u201cHamlet\u201d?") == ["who", "wrote", "``", "hamlet", "''", "?"]
    assert tokenize("Why can't dogs (or cats) fly, really.") == [
        "why", "can", "'t", "dogs", "(", "or", "cats", ")", "fly", ",", "really", "."]
    # abbreviations, numbers and TREC's own tokens stay whole
    assert tokenize("Is Mr. Smith in the U.S.") == ["is", "mr.", "smith", "in", "the", "u.s."]
    assert tokenize("1,000 or 3.5 in the 1960's 10-??") == ["1,000", "or", "3.5", "in", "the", "1960's",
                                                           "10-??"]
    assert tokenize("n't 's `` '' ... o'clock") == ["n't", "'s", "``", "''", "...", "o'clock"]
    assert tokenize("") == [] and tokenize(" ?! ") == ["?!"]


def test_tokenizer_leaves_every_trec_line_as_trec_split_it():
    for name in (trec_mod.TRAIN_FILE, trec_mod.TEST_FILE):
        for line in trec_mod.read_packaged(name).decode(trec_mod.ENCODING).splitlines():
            text = line.split(None, 1)[1]
            assert tokenize(text) == text.lower().split(), line


def test_tokenizer_is_linear_on_a_pathological_word():
    word = "(" * 300_000 + "a" + "?" * 300_000
    start = time.perf_counter()
    tokens = tokenize(word)
    assert time.perf_counter() - start < 2.0 and len(tokens) == 600_001


# --- input files: every bad case names the file and the line -------------------------------------
def test_malformed_lines_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("A good line\nB\nC fine\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: label 'B' has an empty text"):
        read_labeled_file(bad)
    bad.write_text("A good line\n   no label here\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: no label"):
        read_labeled_file(bad)
    bad.write_text("")
    with pytest.raises(DataFormatError, match=r"bad.txt: no examples"):
        read_labeled_file(bad)


def test_byte_order_mark_is_stripped(tmp_path):
    f = tmp_path / "bom.txt"
    f.write_bytes("\ufeffDESC what is it\nHUM who is he\n".encode("utf-8"))
    assert read_labeled_file(f).labels == ["DESC", "HUM"]
    assert read_labeled_file(f, encoding="utf-8-sig").labels == ["DESC", "HUM"]
    f.write_bytes("\ufeffDESC what is it\r\nHUM who is he\r\n".encode("utf-16"))
    assert read_labeled_file(f, encoding="utf-16").labels == ["DESC", "HUM"]
    assert parse_labeled_lines(["\ufeffA x", "B y"], "mem").labels == ["A", "B"]
    f.write_bytes("\ufeffDESC what is it\nHUM who\n".encode("utf-8"))
    with pytest.raises(DataFormatError, match=r"bom.txt: starts with a UTF-8 byte-order mark.*utf-8"):
        read_labeled_file(f, encoding="iso-8859-1")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_end_is_accepted(tmp_path, end):
    f = tmp_path / "ends.txt"
    f.write_bytes(end.join(["A one two", "B three", "A four?"]).encode() + end.encode())
    ex = read_labeled_file(f)
    assert ex.labels == ["A", "B", "A"] and ex.texts[2] == ["four", "?"]
    f.write_bytes(b"A one\rB two\r\nA three\nB bad\xff\r")
    with pytest.raises(DataFormatError, match=r"ends.txt:4: cannot decode byte 0xff"):
        read_labeled_file(f)


def test_trailing_blank_lines_accepted_middle_blank_line_refused(tmp_path):
    f = tmp_path / "blank.txt"
    f.write_text("A one\nB two\n\n  \n\t\n")
    assert read_labeled_file(f).labels == ["A", "B"]
    f.write_text("A one\n\nB two\n")
    with pytest.raises(DataFormatError, match=r"blank.txt:2: empty line between examples"):
        read_labeled_file(f)


def test_encoding_is_checked_before_reading(tmp_path):
    missing = tmp_path / "not-there.txt"
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(missing, encoding="klingon")
    assert str(err.value).startswith("encoding='klingon' is unknown")
    assert not isinstance(err.value, LookupError)
    with pytest.raises(DataFormatError, match="not a text encoding"):
        check_encoding("base64")
    assert check_encoding("latin-1") == "iso8859-1"


def test_undecodable_byte_names_line_and_suggests_encoding(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"A fine\nB caf\xe9 au lait\n")
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(bad)
    msg = str(err.value)
    assert "bad.txt:2: cannot decode byte 0xe9 as utf-8" in msg  and "encoding='iso-8859-1'" in msg
    assert read_labeled_file(bad, encoding="iso-8859-1").texts[1] == ["caf\xe9", "au", "lait"]


def test_errors_stay_short_on_huge_garbage(tmp_path):
    nul = tmp_path / "zeros.bin"
    nul.write_bytes(b"\x00" * 80_000)
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(nul)
    assert len(str(err.value)) < len(str(nul)) + 160 and "zeros.bin:1: NUL byte" in str(err.value)
    one = tmp_path / "one.txt"
    one.write_text("x" * 80_000 + "\n")
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(one)
    assert len(str(err.value)) < len(str(one)) + 160 and "one.txt:1: label 'xxx" in str(err.value)
    assert "80,000 characters" in str(err.value)


def test_unreadable_folder_and_missing_file(tmp_path, monkeypatch):
    with pytest.raises(DataFormatError, match="is a folder, not a file"):
        read_labeled_file(tmp_path)
    with pytest.raises(DataUnavailableError, match="nope.txt: no such file"):
        read_labeled_file(tmp_path / "nope.txt")
    locked = tmp_path / "locked.txt"
    locked.write_text("A x\nB y\n")
    if os.geteuid() == 0:  # root reads anything: simulate what a user sees
        def denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        monkeypatch.setattr(pathlib.Path, "read_bytes", denied)
    else:
        locked.chmod(0)
    with pytest.raises(DataUnavailableError, match="locked.txt: permission denied"):
        read_labeled_file(locked)
    with pytest.raises(DataUnavailableError, match="permission denied"):
        read_lines(locked)


def test_length_limit_refuses_or_truncates_and_counts(tmp_path):
    f = tmp_path / "long.txt"
    f.write_text("A short one\nB " + "word " * 201 + "\nA ok\n")
    with pytest.raises(DataFormatError, match=r"long.txt:2: 201 words, more than the limit of 200"):
        read_labeled_file(f)
    assert len(read_labeled_file(f, max_words=300).texts[1]) == 201
    ex = read_labeled_file(f, truncate=True)
    assert len(ex.texts[1]) == 200 and ex.truncated == 1 and ex.texts[0] == ["short", "one"]
    f.write_text("A short one\nB " + "why? " * 150 + "\n")  # 150 words, 300 tokens
    with pytest.raises(DataFormatError, match=r"long.txt:2: 300 tokens, more than the limit of 200"):
        read_labeled_file(f)
    assert read_labeled_file(f, truncate=True).truncated == 1
    for bad in (0, -1, "200", 2.5, True):
        with pytest.raises(DataFormatError, match="max_words"):
            read_labeled_file(f, max_words=bad)


def test_a_runaway_line_is_refused_fast(tmp_path):
    f = tmp_path / "runaway.txt"
    f.write_text("A short\nB " + "word " * 200_000 + "\n")
    start = time.perf_counter()
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(f)
    assert time.perf_counter() - start < 5.0 and len(str(err.value)) < len(str(f)) + 160
    assert "runaway.txt:2: 200,000 words" in str(err.value)
    ex = read_labeled_file(f, truncate=True)
    assert len(ex.texts[1]) == 200 and ex.truncated == 1


def test_one_class_only_is_refused(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text("POS good\nPOS fine\nPOS great\n")
    with pytest.raises(DataFormatError) as err:
        read_labeled_file(f)
    assert "one.txt: every example has the label 'POS' (3 examples)" in str(err.value)
    assert "at least 2 different labels" in str(err.value)
    assert read_labeled_file(f, min_classes=1).labels == ["POS"] * 3


def test_every_data_error_is_a_user_facing_error(tmp_path):
    """The CLI turns Rnn2SnnError into 'rnn2snn: error: ...' and exit code 2, not a traceback."""
    cases = {"zeros": b"\x00\x00", "latin": b"A caf\xe9\nB x\n", "blank": b"A x\n\nB y\n",
             "one": b"A x\nA y\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(Rnn2SnnError):
            read_labeled_file(tmp_path / name)
    with pytest.raises(Rnn2SnnError):
        read_labeled_file(tmp_path / "zeros", encoding="klingon")


def test_read_lines_for_unlabelled_questions(tmp_path):
    f = tmp_path / "q.txt"
    f.write_bytes(b"\xef\xbb\xbfWho wrote Hamlet?\r\nHow far is it?\r\n\r\n")
    assert read_lines(f) == ["Who wrote Hamlet?", "How far is it?"]


# --- splits and encoding ----------------------------------------------------------------------------
def test_stratified_split_is_seeded_and_stratified(trec):
    train, _ = trec
    a_tr, a_val = stratified_split(train.labels, 0.1, seed=3)
    b_tr, b_val = stratified_split(train.labels, 0.1, seed=3)
    assert np.array_equal(a_val, b_val)
    assert not set(a_tr) & set(a_val) and len(a_tr) + len(a_val) == len(train)
    counts = Counter(np.asarray(train.labels)[a_val])
    assert abs(counts["ABBR"] - 9) <= 1 and abs(counts["ENTY"] - 125) <= 1
    _, c_val = stratified_split(train.labels, 0.1, seed=4)
    assert not np.array_equal(a_val, c_val)


def test_generic_format_any_number_of_classes(tmp_path):
    f = tmp_path / "d.txt"
    f.write_text("pos good film\nneg bad film\nmeh so so\n")
    ex = read_labeled_file(f)
    assert ex.labels == ["pos", "neg", "meh"] and ex.texts[0] == ["good", "film"]
    vocab = Vocabulary.build(ex.texts)
    enc = encode(ex, vocab, sorted(set(ex.labels)))
    assert enc.tokens.shape == (3, 2) and list(enc.labels) == [2, 1, 0]
