"""bfloat16 training: the attention model learns a planted function about as well as in
float32, over several seeds, and a precision it does not know is refused by name."""

import numpy as np
import pytest
from test_estimator import planted_frame  # tests/models is on sys.path (rootdir-relative import)

from matlattice.errors import InvalidParameterError
from matlattice.models import LatticeRegressor


def _val_mae(precision: str, seed: int) -> float:
    frame = planted_frame(seed)
    train, test = frame.iloc[::2], frame.iloc[1::2]
    model = LatticeRegressor("attention", latent_dim=8, d_model=32, n_layers=1, epochs=60,
                             patience=60, batch_size=32, lr=3e-3, precision=precision,
                             random_state=seed, num_threads=1)  # fmt: skip
    model.fit(train[["formula", "t1"]])
    predicted = np.ravel(model.predict(test["formula"].tolist()))
    return float(np.mean(np.abs(predicted - test["t1"].to_numpy())))


@pytest.mark.slow
def test_bf16_training_learns_the_planted_function_as_fp32_does():
    spread = float(np.mean(np.abs(planted_frame(0)["t1"] - planted_frame(0)["t1"].mean())))
    for seed in (0, 1, 2):
        fp32, bf16 = _val_mae("fp32", seed), _val_mae("bf16", seed)
        assert bf16 < 0.75 * spread, (seed, bf16, spread)  # it learnt (as fp32: 0.5-0.7)
        assert bf16 < 1.2 * fp32, (seed, bf16, fp32)  # measured: within 3 % either way


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(InvalidParameterError, match="fp16"):
        LatticeRegressor("attention", precision="fp16").fit(planted_frame(0)[["formula", "t1"]])
