"""One CrabNet fit by CrabNet's own code (the peer of bench/crabnet_peer.py), run in a
subprocess with ``PYTHONPATH=bench/.peers/crabnet``: train on ``train.csv``, CrabNet's own
selection on ``val.csv``, score ``test.csv``; prints one JSON line (seconds, epochs, test MAE).

Run: ``PYTHONPATH=bench/.peers/crabnet python bench/peers/crabnet_run.py SET_DIR --epochs 40``
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a benchmark_data/<set> folder: train/val/test.csv")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import torch
    from crabnet.crabnet_ import CrabNet

    torch.set_num_threads(args.threads)
    parts = {p: pd.read_csv(os.path.join(args.folder, f"{p}.csv"))
             for p in ("train", "val", "test")}  # fmt: skip
    model = CrabNet(epochs=args.epochs, random_state=args.seed, force_cpu=True, verbose=False,
                    losscurve=False, learningcurve=False, save=False)  # fmt: skip
    start = time.perf_counter()
    model.fit(parts["train"], parts["val"])
    seconds = time.perf_counter() - start
    predicted = np.asarray(model.predict(parts["test"]), dtype=float)
    print(json.dumps({
        "mae": float(np.mean(np.abs(predicted - parts["test"]["target"].to_numpy(float)))),
        "seconds": seconds, "epochs_run": int(model.epochs), "batch_size": int(model.batch_size),
        "parameters": int(sum(p.numel() for p in model.model.parameters())),
        "d_model": model.d_model, "layers": model.N, "n_train": len(parts["train"]),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
