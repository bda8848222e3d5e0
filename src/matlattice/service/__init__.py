"""``matlattice serve``: an HTTP ask/tell service over a folder of campaign stores.

A lab's robot or notebook drives campaigns remotely: create, ask, tell, status, export, and
predictions of fitted runs. Every route but ``/health`` needs the bearer token; ``tell`` is
idempotent per proposal id; one writer at a time per campaign; a killed server restarted on
the same folder continues with nothing lost (each answer is sent after its commit).
"""

from matlattice.service.app import create_app
from matlattice.service.auth import load_token

__all__ = ["create_app", "load_token"]
