"""A float teacher for distillation: Kim's (2014) convolutional sentence classifier.

Why a CNN: it is the strongest simple float model on TREC (Kim: 0.912 with random
vectors, 0.936 with word2vec) and it errs differently from an Elman RNN, so its soft
targets carry information the student's labels do not. It is trained in the same run,
on the same fit split, early-stopped on the same validation split
(:func:`rnn2snn.model.train.train`), and never goes on the chip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TeacherConfig:
    """Sizes of the CNN: filter widths × maps each, embedding, dropout before the readout."""

    vocab_size: int
    n_classes: int
    embed_dim: int = 128
    widths: tuple[int, ...] = (3, 4, 5)
    maps: int = 100
    dropout: float = 0.5


class KimCNN(nn.Module):
    """Embedding → parallel 1-d convolutions (ReLU) → max over the words → dropout → linear."""

    def __init__(self, config: TeacherConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(config.embed_dim, config.maps, w, padding=w - 1)
                                   for w in config.widths)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.maps * len(config.widths), config.n_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e = self.embedding(tokens).transpose(1, 2)  # (B, E, L)
        feats = []
        for conv in self.convs:
            h = torch.relu(conv(e))  # (B, M, L + w − 1); window j covers words j − w + 1 … j
            n = h.shape[2]
            # windows that touch at least one real word (ReLU ≥ 0, so masking with 0 is safe)
            valid = torch.arange(n)[None, :] < (lengths[:, None] + conv.kernel_size[0] - 1)
            feats.append((h * valid[:, None, :]).amax(2))
        return self.out(self.drop(torch.cat(feats, 1)))


@torch.no_grad()
def soft_targets(model: nn.Module, data, batch_size: int = 256) -> np.ndarray:
    """The teacher's logits (N, C) float32 on ``data`` (eval mode), in data order."""
    from rnn2snn.model.train import predict

    return predict(model, data, batch_size)
