"""Pretrained word vectors through gensim: word2vec binary and text, GloVe text."""

import numpy as np
import pytest
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
