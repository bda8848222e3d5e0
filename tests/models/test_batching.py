"""Length-bucketed batches and padding trimming: faster, and the same answers."""

import torch

from matlattice.composition import parse_formulas
from matlattice.models.networks.encoders import AttentionEncoder
from matlattice.models.networks.inputs import element_matrix, element_tokens
from matlattice.models.networks.training import _batches


def test_bucketed_batches_cover_every_sample_once_with_little_padding():
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 9, (5000,), generator=gen)
    batches = list(_batches(5000, 64, torch.Generator().manual_seed(1), lengths, pool=20))
    seen = torch.cat(batches)
    assert sorted(seen.tolist()) == list(range(5000))
    padded = sum(int(lengths[b].max()) * len(b) for b in batches)
    plain = list(_batches(5000, 64, torch.Generator().manual_seed(1)))
    padded_plain = sum(int(lengths[b].max()) * len(b) for b in plain)
    # random batches of 64 almost always contain an 8; sorted pools rarely waste a token
    assert padded < 0.65 * padded_plain
    assert padded < 1.05 * int(lengths.sum())
    # a different seed gives a different order
    other = torch.cat(list(_batches(5000, 64, torch.Generator().manual_seed(2), lengths, 20)))
    assert not torch.equal(seen, other)


def test_extra_padding_columns_do_not_change_the_embedding():
    fractions = parse_formulas(["NaCl", "Fe2O3", "LiFePO4"]).fractions
    tight = element_tokens(fractions)
    wide = element_tokens(fractions, max_elements=9)
    assert wide[0].shape[1] == 9 > tight[0].shape[1]
    torch.manual_seed(0)
    encoder = AttentionEncoder(element_matrix("magpie"), 8, d_model=32, n_layers=2).eval()
    with torch.no_grad():
        torch.testing.assert_close(encoder(*tight), encoder(*wide))
        # one sample alone (trimmed to its own width) embeds as it does inside the batch
        torch.testing.assert_close(encoder(tight[0][:1], tight[1][:1]), encoder(*tight)[:1])
