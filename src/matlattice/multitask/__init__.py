"""Multi-model training schemes: how properties share models. Helpers chosen by the
entanglement lattice, fine-tuning from a shared model, gated groups, properties borrowed
from other databases, and the gate that keeps, per property, whichever model judges better."""
