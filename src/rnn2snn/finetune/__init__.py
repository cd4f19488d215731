"""Training against the spiking dynamics (torch): the spiking fine-tune
(:mod:`rnn2snn.finetune.spiking`) and the spiking evaluation and schedule choice it and the
pipeline use (:mod:`rnn2snn.finetune.evaluate`). The tick neuron and the time loop they
run are the program's (:mod:`rnn2snn.program.neuron`, :mod:`rnn2snn.program.network`).
"""
