"""The structure stage (issue 24, in progress): candidate crystal structures for a
composition (prototypes written from their Wyckoff positions, pyxtal's random symmetric
crystals with Materials Project space-group frequencies) and batched relaxation by a
pretrained potential (CHGNet). Stability, XRD, the CLI and the design/campaign hooks are not
built yet."""
