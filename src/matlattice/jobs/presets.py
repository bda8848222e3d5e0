"""Named fit settings, so that what a user gets without tuning is what the tables report.

``fast`` is the plain defaults (a random forest on Magpie statistics: seconds to minutes).
``accurate`` is the attention setting of the CrabNet table's small sets
(``bench/results/crabnet_table.md``: an ensemble of 3, up to 250 epochs, 64-wide
embeddings, batches of 128), several times the training of one model. A preset sets fields
of :class:`~matlattice.jobs.config.FitConfig`; options typed beside it win over it.
"""

from __future__ import annotations

__all__ = ["PRESETS"]

PRESETS: dict[str, dict] = {
    "fast": {},
    "accurate": {
        "model": "attention",
        "ensemble": 3,
        "epochs": 250,
        "patience": 40,
        "latent_dim": 64,
        "batch_size": 128,
        "lr": 1e-3,
        "element_table": "mat2vec",
    },
}
