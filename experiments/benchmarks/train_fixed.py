"""Train one candidate of a shipped experiment's space, by the toolkit or by the plain loop,
and write its seconds, timings, accuracy and FLOPs as JSON (a child of ``workloads.py``).

    python experiments/benchmarks/train_fixed.py toolkit|plain EXPERIMENT PARAMS_JSON EPOCHS OUT

``PARAMS_JSON`` holds drawn parameter values, replayed through the space. The data and the
evaluation batch size are the experiment's. The toolkit trains through the public face of
``nas.training`` as a search does; the plain loop is ``plain_loop.train_one``. ``seconds``
is the whole training call (compilation, initialisation and per-epoch validation included);
``train_flops`` is 3x the forward FLOPs over every training example of every epoch.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from plain_loop import train_one

from nas.config import load_experiment
from nas.model import arch_label, model_stats
from nas.space import FixedSuggest
from nas.training import TrainConfig, Trainer


def main(which: str, path: str, params: str, epochs: int, out: Path) -> None:
    experiment = load_experiment(path)
    data = experiment.load_data()
    arch = experiment.sample(FixedSuggest(json.loads(params)))
    if which == "toolkit":
        trainer = Trainer(TrainConfig(epochs, experiment.training.eval_batch_size))
        start = time.perf_counter()
        result = trainer.train(arch, data, seed=0)
        row = {**result.timings, "val_accuracy": result.metrics["val_accuracy"]}
    else:
        start = time.perf_counter()
        row = train_one(arch, data, epochs, seed=0)
    row["seconds"] = time.perf_counter() - start
    stats = model_stats(arch, data.input_shape, data.num_classes)
    examples = len(data.x_train) // arch.batch_size * arch.batch_size
    row.update(
        label=arch_label(arch),
        n_params=stats.n_params,
        forward_flops=stats.flops,
        train_flops=3 * stats.flops * examples * epochs,
        epochs=epochs,
    )
    out.write_text(json.dumps(row))


if __name__ == "__main__":
    which, path, params, epochs, out = sys.argv[1:]
    main(which, path, params, int(epochs), Path(out))
