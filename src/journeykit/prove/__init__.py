"""Proof: what each play changed, measured against its holdout with honest statistics.

``prove(events, journey, workspace=ws)`` judges every entry of the workspace's ledger at ``now``
and gives, per play, the goal rate per arm, the difference with a fixed-horizon and a sequential
(always-valid) interval, the sample-ratio check and a plain verdict (docs/proof.md).
"""

from journeykit.prove.assignments import AssignmentsError, read_assignments
from journeykit.prove.proof import VERDICTS, ArmResult, PlayProof
from journeykit.prove.run import ProveError, ProveResult, prove
from journeykit.prove.stats import Estimate, Moments, SampleSize, sample_size
from journeykit.prove.touchpoints import Association

__all__ = [
    "VERDICTS", "ArmResult", "AssignmentsError", "Association", "Estimate", "Moments",
    "PlayProof", "ProveError", "ProveResult", "SampleSize", "prove", "read_assignments",
    "sample_size",
]  # fmt: skip
