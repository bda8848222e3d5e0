"""The structure stage (issue 24): from a composition to relaxed crystal structures.

Candidates (:mod:`.candidates`: prototypes written from their Wyckoff positions in
:mod:`.prototypes`, pyxtal's random symmetric crystals drawn with Materials Project
space-group frequencies) are relaxed in batches by a pretrained potential (:mod:`.potentials`:
CHGNet, SevenNet; :mod:`.relax`, :mod:`.search`: checkpointed, duplicates marked), then given
formation energies against elemental references relaxed the same way (:mod:`.references`,
:mod:`.corrections`) and hull distances (:mod:`.hull`, :mod:`.predict`), predicted powder
patterns (:mod:`.xrd`) and crystal-graph embeddings (:mod:`.embeddings`). The run folder and
CLI (``matlattice structure predict``, ``match-xrd``) live in :mod:`matlattice.jobs.structure`;
the design hook in :mod:`matlattice.jobs.design_structures`; the campaign oracle in
:mod:`matlattice.discovery.structure_oracle`."""
