"""One synthetic tacrolimus arm and its two indication subgroups, shared by the extraction
tests (unit, desk and update-cycle). Made-up counts that satisfy every arithmetic rule of
resources/extraction/README.md: outcomes add up to n, reasons add up to n, subgroups add up
to their arm. Test data only; they never enter resources/.
"""

from __future__ import annotations

TACROLIMUS_ARM = {
    "record_type": "arm",
    "cni": "tacrolimus",
    "n": "10",
    "remission": "6",
    "response": "2",
    "failure": "1",
    "unknown": "1",
    "reason_insufficient_response": "7",
    "reason_intolerance": "3",
    "reason_not_specified": "0",
}
INSUFFICIENT_RESPONSE_SUBGROUP = {
    "record_type": "subgroup",
    "cni": "tacrolimus",
    "grouping": "indication",
    "group": "insufficient_response",
    "n": "7",
    "remission": "4",
    "response": "2",
    "failure": "1",
    "unknown": "0",
}
INTOLERANCE_SUBGROUP = {
    "record_type": "subgroup",
    "cni": "tacrolimus",
    "grouping": "indication",
    "group": "intolerance",
    "n": "3",
    "remission": "2",
    "response": "0",
    "failure": "0",
    "unknown": "1",
}
