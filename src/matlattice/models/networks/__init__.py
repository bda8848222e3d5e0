"""The torch networks and their training: encoders with a bottleneck, multi-task heads,
input tables, task weighting, routing and the masked trainer."""
