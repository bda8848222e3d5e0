"""Run-folder jobs behind the CLI: fit, predict, calibrate, compression-fidelity and
entanglement runs. Each job takes a frozen config, writes a folder holding that config, its
results and figures, and returns the results it wrote."""
