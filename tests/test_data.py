import hashlib
import urllib.error
from collections import Counter

import numpy as np
import pytest

from rnn2snn.data import read_labeled_file, stratified_split
from rnn2snn.data import trec as trec_mod
from rnn2snn.data.text import Vocabulary, encode
from rnn2snn.errors import DataFormatError, DataUnavailableError


def test_trec_files_parse_with_readme_counts(trec):
    train, test = trec
    assert len(train) == 5452 and len(test) == 500
    assert Counter(train.labels) == {"ABBR": 86, "DESC": 1162, "ENTY": 1250, "HUM": 1223,
                                     "LOC": 835, "NUM": 896}
    assert Counter(test.labels)["NUM"] == 113
    # line 66 holds byte 0xF0, decoded as ISO-8859-1
    assert "sister\xf0city" in " ".join(train.texts[65])


def test_fine_labels(trec_dir):
    train, test = trec_mod.load_trec(trec_dir, labels="fine", allow_download=False)
    assert len(set(train.labels)) == 50 and len(set(test.labels)) == 42
    assert set(test.labels) <= set(train.labels)
    assert all(label.split(":")[0] in trec_mod.COARSE_CLASSES for label in train.labels)


def test_malformed_lines_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("A good line\nB\nC fine\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: label 'B' has an empty text"):
        read_labeled_file(bad)
    bad.write_text("A good line\n   no label here\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: no label"):
        read_labeled_file(bad)
    bad.write_text("A good\n\nB more\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: empty line"):
        read_labeled_file(bad)
    bad.write_bytes(b"A caf\xe9\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:1: cannot decode byte 0xe9"):
        read_labeled_file(bad)


def test_trec_label_must_be_coarse_fine(tmp_path):
    with pytest.raises(DataFormatError, match=r"x.label:2: label 'FOO' is not a TREC label"):
        trec_mod.parse_trec(b"NUM:dist How far ?\nFOO bar ?\n", "x.label")


def test_missing_data_without_network_names_flag_and_url(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(trec_mod.urllib.request, "urlopen", no_network)
    monkeypatch.setenv(trec_mod.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    with pytest.raises(DataUnavailableError) as err:
        trec_mod.load_trec()
    assert "--data-dir" in str(err.value) and trec_mod.BASE_URL in str(err.value)
    with pytest.raises(DataUnavailableError, match="--data-dir"):
        trec_mod.load_trec(tmp_path / "nowhere")


def test_download_validates_and_caches(tmp_path, monkeypatch, trec_dir):
    served = []

    class Response:
        def __init__(self, data):
            self.data = data

        def read(self):
            return self.data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(url, timeout):
        name = url.rsplit("/", 1)[1]
        served.append(url)
        return Response((trec_dir / name).read_bytes())

    monkeypatch.setattr(trec_mod.urllib.request, "urlopen", fake_urlopen)
    monkeypatch.setenv(trec_mod.ENV_CACHE, str(tmp_path))
    monkeypatch.delenv(trec_mod.ENV_DATA_DIR, raising=False)
    train, test = trec_mod.load_trec()
    assert len(train) == 5452 and len(served) == 2
    assert served[0].startswith(trec_mod.BASE_URL)
    cached = tmp_path / "trec" / "train_5500.label"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() in trec_mod.KNOWN_SHA256[cached.name]
    trec_mod.load_trec()  # second time from the cache
    assert len(served) == 2


def test_download_of_wrong_file_is_refused(tmp_path):
    with pytest.raises(DataFormatError, match="expected 500"):
        trec_mod.validate_trec(b"NUM:dist How far ?\n" * 10, trec_mod.TEST_FILE)


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
