"""Checks of a run's data: classes, labels, the validation split, the vocabulary."""

from __future__ import annotations

from rnn2snn.checks.params import ParameterError, named
from rnn2snn.errors import DataFormatError

#: A vocabulary that maps more than this share of the training words to <unk> is warned about.
UNKNOWN_WARN_SHARE = 0.5


def check_data(train, test, config) -> list[str]:
    """Refuse data the pipeline cannot learn from; return warnings (one sentence each).

    Refused: fewer than two classes, test labels absent from training, no validation
    example, a ``min_count`` that keeps no word. Warned: more than half of the training
    words become ``<unk>``. Uses the pipeline's own split and vocabulary rule.
    """
    from rnn2snn.data.text import Vocabulary, stratified_split

    classes = sorted(set(train.labels))
    if len(classes) < 2:
        raise DataFormatError(
            f"{train.source or 'training data'}: only one class ({classes[0]!r} in all "
            f"{len(train)} examples); a classifier needs at least two")
    unknown = sorted(set(test.labels) - set(classes))
    if unknown:
        raise DataFormatError(f"{test.source or 'test data'}: labels {unknown[:5]} do not occur in "
                              f"the training data (classes: {classes})")
    fit_idx, val_idx = stratified_split(train.labels, config.val_fraction, config.seed)
    if len(val_idx) == 0:
        raise ParameterError(
            "val_fraction", f"val_fraction={config.val_fraction} holds out no example of the "
                            f"{len(train)} training examples; raise it or give more data")
    texts = [train.texts[i] for i in fit_idx]
    vocab = Vocabulary.build(texts, min_count=config.min_count)
    total = sum(len(t) for t in texts)
    known = set(vocab.tokens[2:])
    unk = sum(1 for t in texts for w in t if w not in known)
    if len(vocab) <= 2:
        from collections import Counter

        top = max(Counter(w for t in texts for w in t).values(), default=0)
        raise ParameterError(
            "min_count", f"{named('min_count', config.min_count)} keeps no word: the most "
                         f"frequent training word occurs {top} times, so every word would become "
                         f"<unk> and the network could only count words; lower it")
    warnings = []
    if total and unk / total > UNKNOWN_WARN_SHARE:
        warnings.append(
            f"{named('min_count', config.min_count)} maps {100 * unk / total:.1f} % of the training "
            f"words ({unk:,} of {total:,}) to <unk>, keeping {len(vocab) - 2} distinct words; the "
            f"network sees mostly unknown words (a lower min_count keeps more)")
    return warnings
