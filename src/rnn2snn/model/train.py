"""Backpropagation through time on padded, masked minibatches; Adam; early stopping.

Optional distillation (Hinton et al. 2015): with a teacher's logits on the training data,
the loss is ``(1 − λ)·CE(labels) + λ·T²·KL(softmax(teacher/T) ‖ softmax(student/T))``
(:func:`distill_loss`); selection stays on validation accuracy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rnn2snn.config import TrainConfig
from rnn2snn.data.sequences import Sequences


@dataclass(frozen=True)
class Distillation:
    """Soft targets for :func:`train`: ``logits`` (N, C) of a teacher on the training data
    (same order), weight ``lam`` (λ in [0, 1]) and temperature ``temperature`` (T > 0)."""

    logits: np.ndarray
    lam: float = 0.5
    temperature: float = 2.0


def distill_loss(student: torch.Tensor, labels: torch.Tensor, teacher: torch.Tensor | None,
                 lam: float, temperature: float) -> torch.Tensor:
    """``(1 − λ)·CE(labels) + λ·T²·KL(teacher_T ‖ student_T)``; plain CE without a teacher.

    The T² keeps the soft term's gradients on the scale of the hard term's as T grows.
    """
    ce = nn.functional.cross_entropy(student, labels)
    if teacher is None or lam == 0.0:
        return ce
    t = float(temperature)
    kl = nn.functional.kl_div(nn.functional.log_softmax(student / t, 1),
                              nn.functional.log_softmax(teacher / t, 1),
                              reduction="batchmean", log_target=True)
    return (1.0 - lam) * ce + lam * t * t * kl


@dataclass
class TrainResult:
    """Per-epoch history and the best validation accuracy (its weights are kept).

    Epoch 0 is the weights as they came in; ``best_epoch == 0`` means no epoch of
    training beat them, so they were kept (:attr:`kept_start`).
    """

    best_val_accuracy: float
    best_epoch: int
    history: list[dict] = field(default_factory=list)

    @property
    def kept_start(self) -> bool:
        return self.best_epoch == 0

    @property
    def start_val_accuracy(self) -> float:
        return self.history[0]["val_accuracy"]


def batches(data: Sequences, batch_size: int, rng: np.random.Generator | None):
    """Yield index arrays; with ``rng``, shuffled and bucketed by length (less padding)."""
    n = len(data)
    if rng is None:
        order = np.argsort(data.lengths, kind="stable")
        for s in range(0, n, batch_size):
            yield order[s : s + batch_size]
        return
    order = rng.permutation(n)
    chunk = batch_size * 20
    groups = []
    for s in range(0, n, chunk):
        part = order[s : s + chunk]
        part = part[np.argsort(data.lengths[part], kind="stable")]
        groups.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    for i in rng.permutation(len(groups)):
        yield groups[i]


def _tensors(data: Sequences, idx: np.ndarray):
    sub = data.subset(idx)
    return torch.from_numpy(sub.inputs), torch.from_numpy(sub.lengths), torch.from_numpy(sub.labels)


@torch.no_grad()
def predict(model: nn.Module, data: Sequences, batch_size: int = 256) -> np.ndarray:
    """Class scores (N, C) as float32, in the order of ``data``."""
    model.eval()
    out = np.zeros((len(data), model.config.n_classes), dtype=np.float32)
    for idx in batches(data, batch_size, None):
        inputs, lengths, _ = _tensors(data, idx)
        out[idx] = model(inputs, lengths).numpy()
    return out


def accuracy(model: nn.Module, data: Sequences) -> float:
    """Share of examples whose arg-max class is the label."""
    return float((predict(model, data).argmax(1) == data.labels).mean())


def score(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of class scores: what epoch selection compares.

    An epoch is better when its accuracy is higher, or equal with a lower loss: on a
    small or easy validation split the accuracy saturates (1.000 at every epoch), and
    without the loss no retraining after a constraint could ever replace its start.
    """
    logits = np.asarray(logits, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    loss = float(nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)))
    return float((logits.argmax(1) == labels).mean()), loss


def better(new: tuple[float, float], best: tuple[float, float]) -> bool:
    """Higher accuracy, or the same accuracy and a lower loss (see :func:`score`)."""
    return new[0] > best[0] or (new[0] == best[0] and new[1] < best[1])


class EpochChoice:
    """The best validation epoch so far (:func:`better`); ``patience`` epochs without a
    better one end training. One rule for :func:`train` and the spiking fine-tune.

    ``start`` is epoch 0, the weights as they came in, when they are a candidate (a user's
    trained model, the converted network before its fine-tune): then no epoch replaces
    them unless strictly better. ``None`` when they are not (random weights; the start of
    a retraining after a constraint step, see :func:`train`).
    """

    def __init__(self, start: tuple[float, float] | None, model: nn.Module, patience: int):
        self.score, self.epoch, self.patience = start, 0, patience
        self.state = None if start is None else copy.deepcopy(model.state_dict())

    def offer(self, epoch: int, score: tuple[float, float], model: nn.Module) -> bool:
        """Record ``epoch``'s validation score; True when training should stop."""
        if self.score is None or better(score, self.score):
            self.score, self.epoch, self.state = score, epoch, copy.deepcopy(model.state_dict())
            return False
        return epoch - self.epoch >= self.patience


def train(
    model: nn.Module,
    train_data: Sequences,
    val_data: Sequences,
    config: TrainConfig = TrainConfig(),
    desc: str = "train",
    progress: bool = True,
    distill: Distillation | None = None,
    start_is_candidate: bool = True,
) -> TrainResult:
    """Train in place with Adam and keep the weights of the best validation epoch.

    With ``start_is_candidate`` the incoming weights are epoch 0 and are replaced only by
    a strictly better epoch (higher validation accuracy, or equal with a lower validation
    loss: :func:`better`), so the float stage never hands back a model worse on validation
    than a user's trained model; ``patience`` counts epochs since the best one, epoch 0
    included. Without it (the retraining after a constraint step, as Diehl et al. retrain
    after each step) the best retrained epoch is kept: the start's validation accuracy is
    the previous stage's maximum over its epochs, biased upward by that choice, and letting
    it compete kept the unretrained weights in most stages and cost 1.2 points of spiking
    test accuracy on TREC (mean of seeds 0-2; README, "Stages that never hide a loss").
    A loss a retraining leaves is in its stage row and, over 2 points, in the warnings.
    Selection uses ``val_data`` only; the test set never enters here. ``distill``: a
    teacher's logits on ``train_data`` mixed into the loss (:func:`distill_loss`).
    """
    if distill is not None and np.asarray(distill.logits).shape != (len(train_data), model.config.n_classes):
        raise ValueError(f"distill.logits: shape {np.asarray(distill.logits).shape}, expected "
                         f"({len(train_data)}, {model.config.n_classes})")
    soft = None if distill is None else torch.from_numpy(np.asarray(distill.logits, dtype=np.float32))
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start = score(predict(model, val_data), val_data.labels)  # eval mode: no random numbers used
    choice = EpochChoice(start if start_is_candidate else None, model, config.patience)
    history = [{"epoch": 0, "train_loss": None, "val_accuracy": start[0], "val_loss": start[1]}]
    bar = tqdm(range(1, config.epochs + 1), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for idx in batches(train_data, config.batch_size, rng):
            inputs, lengths, labels = _tensors(train_data, idx)
            opt.zero_grad()
            if soft is None:
                loss = nn.functional.cross_entropy(model(inputs, lengths), labels)
            else:
                loss = distill_loss(model(inputs, lengths), labels, soft[torch.from_numpy(idx)],
                                    distill.lam, distill.temperature)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        val = score(predict(model, val_data), val_data.labels)
        history.append({"epoch": epoch, "train_loss": total / count, "val_accuracy": val[0],
                        "val_loss": val[1]})
        bar.set_postfix(loss=f"{total / count:.3f}", val=f"{val[0]:.3f}")
        if choice.offer(epoch, val, model):
            break
    if choice.state is None:  # no epoch ran
        return TrainResult(best_val_accuracy=start[0], best_epoch=0, history=history)
    model.load_state_dict(choice.state)
    return TrainResult(best_val_accuracy=choice.score[0], best_epoch=choice.epoch, history=history)
