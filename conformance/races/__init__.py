"""Races: concurrent histories and a linearizability checker against a sequential spec
(issue 14). Pure code: no I/O, no threads.

- :mod:`conformance.races.history`: the operations of a history, with invoke and complete
  times (``complete`` None: the answer was lost, the operation is indeterminate).
- :mod:`conformance.races.checker`: Wing and Gong's search with Lowe's memoization, as
  Porcupine and Knossos do, partitioned by key where the spec says keys are independent.
- :mod:`conformance.races.sms_spec`: the SMS API at the level the races need.
"""

from conformance.races.checker import CheckResult, Spec, check
from conformance.races.history import Operation

__all__ = ["CheckResult", "Operation", "Spec", "check"]
