"""Fine-tuning against the spiking dynamics: train on the spike counts the chip would produce.

The conversion is exact only in some cases (see :mod:`rnn2snn.program.diagnostics`);
elsewhere spike counts drift from the integer activities (excitation arriving
before inhibition inside a window; potential carried between words, unless the
integer network carries it too). Here every minibatch is
run through the network-level spiking simulator, and the loss is computed on the
*spike counts*: the forward pass uses the counts, the backward pass the integer
network's straight-through gradient, with the recurrent input of each word taken
from the previous word's spike counts (teacher forcing on the spiking trajectory).
The readout thereby learns the counts the hardware really emits, and the weights
move towards ones whose counts carry the class. Selection: validation accuracy
of the spiking network, starting from the weights as they came (never worse on
validation).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rnn2snn.constrain.steps import to_integer
from rnn2snn.data.sequences import Sequences
from rnn2snn.finetune.evaluate import spiking_logits
from rnn2snn.model.elman import ElmanClassifier, pool_activity
from rnn2snn.model.quantize import word_step
from rnn2snn.model.train import EpochChoice, TrainConfig, TrainResult, batches, score
from rnn2snn.program.network import SpikingConfig, convert, simulate


def spiking_score(model: ElmanClassifier, data: Sequences, config: SpikingConfig) -> tuple[float, float]:
    """(accuracy, cross-entropy) of the converted spiking network (counts through the model's
    readout), as :func:`rnn2snn.model.train.score` compares epochs."""
    logits, _ = spiking_logits(model, convert(to_integer(model), config), data)
    return score(logits, data.labels)


def spiking_accuracy(model: ElmanClassifier, data: Sequences, config: SpikingConfig) -> float:
    """Accuracy of the converted spiking network (counts through the model's readout)."""
    return spiking_score(model, data, config)[0]


def spiking_forward(model: ElmanClassifier, inputs: torch.Tensor, lengths: torch.Tensor,
                    config: SpikingConfig) -> torch.Tensor:
    """Class scores computed from simulated spike counts, with straight-through gradients."""
    c, k = model.config, model.constraints
    x = model.input_activity(inputs)  # (B, L, P) integer levels, differentiable
    valid = (torch.arange(inputs.shape[1])[None, :] < lengths[:, None])
    xs = model.sources(x * valid[..., None].to(x.dtype), lengths)  # (B, L + lag, S)
    x_int = np.rint(xs.detach().numpy()).astype(np.int64)
    with torch.no_grad():
        snn = convert(to_integer(model), config)
    run_lengths = lengths + c.lag
    counts = torch.from_numpy(simulate(snn, x_int, run_lengths.numpy()).counts).to(x.dtype)
    w = model.effective_recurrent()
    s = c.n_sources
    previous = torch.cat([torch.zeros_like(counts[:, :1]), counts[:, :-1]], dim=1)
    a, _ = word_step(xs @ w[:, :s].T + previous @ w[:, s:].T, model.thresholds(), k.activity_levels,
                     carry=False)
    feature_steps = counts + (a - a.detach())  # forward: spike counts; backward: integer net
    feature = pool_activity(model.last_layer(feature_steps, inputs.shape[1]), lengths, c.readout)
    return model.readout(model.dropout(feature))


def finetune_spiking(model: ElmanClassifier, train_data: Sequences, val_data: Sequences,
                     config: SpikingConfig, train_config: TrainConfig = TrainConfig(epochs=6, lr=5e-4),
                     progress: bool = True) -> TrainResult:
    """Fine-tune in place against the spiking dynamics; keep the best validation epoch
    (:func:`rnn2snn.model.train.better`; epoch 0 is the weights as they came:
    ``result.kept_start`` when no epoch beat them)."""
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=train_config.lr)
    loss_fn = nn.CrossEntropyLoss()
    model.eval()
    # epoch 0: the weights as they came, replaced only by a strictly better epoch
    start = spiking_score(model, val_data, config)
    choice = EpochChoice(start, model, train_config.patience)
    history = [{"epoch": 0, "val_accuracy": start[0], "val_loss": start[1]}]
    bar = tqdm(range(1, train_config.epochs + 1), desc="spiking fine-tune", disable=not progress,
               leave=False)
    for epoch in bar:
        model.train()
        for idx in batches(train_data, train_config.batch_size, rng):
            sub = train_data.subset(idx)
            inputs, lengths = torch.from_numpy(sub.inputs), torch.from_numpy(sub.lengths)
            opt.zero_grad()
            loss = loss_fn(spiking_forward(model, inputs, lengths, config), torch.from_numpy(sub.labels))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), train_config.clip_grad)
            opt.step()
        model.eval()
        val = spiking_score(model, val_data, config)
        history.append({"epoch": epoch, "val_accuracy": val[0], "val_loss": val[1]})
        bar.set_postfix(val=f"{val[0]:.3f}")
        if choice.offer(epoch, val, model):
            break
    model.load_state_dict(choice.state)
    model.eval()
    return TrainResult(best_val_accuracy=choice.score[0], best_epoch=choice.epoch, history=history)
