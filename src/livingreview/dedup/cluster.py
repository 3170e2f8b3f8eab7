"""Grouping records into publications from the decided pairs, strongest first.

A merge is refused when any two records of the two clusters conflict, so transitive chains
never join unrelated records; across runs a new record may join one earlier publication but
never fuse two (that pair goes to a human), so publication ids never disappear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import ValidationError
from .conflicts import conflict
from .keys import Features, candidate_pairs
from .match import MAYBE, SAME, compare
from .settings import MatchSettings


@dataclass
class Edge:
    i: int
    j: int
    rule: str
    score: float


@dataclass
class Clustering:
    """Clusters of record indices plus the edges that explain them and the open pairs."""

    cluster_of: list[int]
    tree: list[Edge]
    maybe: list[Edge]

    def groups(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = defaultdict(list)
        for index, root in enumerate(self.cluster_of):
            groups[root].append(index)
        return groups


_RULE_STRENGTH = {
    "verdict": 0,
    "pmid": 1,
    "doi": 2,
    "fuzzy_same_issue": 3,
    "fuzzy": 4,
    "fuzzy_short_title": 5,
    "fuzzy_despite_pages": 6,
    "fuzzy_despite_volume": 6,
    "short_title_same_issue": 7,
    "title_prefix_same_pages": 7,
    "same_issue_pages": 8,
    "notice_copy": 5,
    "identical_title_byline": 8,
    "short_title_same_volume": 8,
    "erratum_named": 9,
    "erratum_of": 9,
}


class VerdictContradiction(ValidationError):
    """A ``same`` verdict joins records that another verdict keeps apart."""

    def __init__(self, record_id_a: str, record_id_b: str):
        #: The two records of the ``same`` verdict that cannot be applied.
        self.record_ids = (record_id_a, record_id_b)
        super().__init__(
            "verdicts",
            "a 'same' verdict joins records that another verdict marks 'different'",
            field="verdict",
            value=f"{record_id_a} / {record_id_b}",
            allowed="consistent verdicts; change one of them",
        )


def cluster_records(
    features: Sequence[Features],
    settings: MatchSettings,
    *,
    order: Sequence[int] | None = None,
    verdict_same: Iterable[tuple[int, int]] = (),
    verdict_different: Iterable[tuple[int, int]] = (),
) -> Clustering:
    """Group records into publications.

    ``order`` gives each record's run rank (0 = earliest run); pairs are merged run by run,
    and a merge that would fuse two clusters both already holding records from runs before
    the pair's run is refused (sent to ``maybe``), so earlier publications stay as they were.
    Human ``same`` verdicts always merge; ``different`` verdicts always block.
    """
    n = len(features)
    rank = list(order) if order is not None else [0] * n
    forbidden: dict[int, set[int]] = defaultdict(set)
    for i, j in verdict_different:
        forbidden[i].add(j)
        forbidden[j].add(i)
    same_pairs = {(min(i, j), max(i, j)) for i, j in verdict_same}

    edges, maybe = _decided_edges(features, settings, rank, same_pairs, forbidden)

    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    earliest: list[int] = list(rank)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tree: list[Edge] = []
    for edge in edges:
        ri, rj = find(edge.i), find(edge.j)
        if ri == rj:
            continue
        if edge.rule != "verdict":
            reason = _merge_blocker(members[ri], members[rj], features, forbidden)
            pair_rank = max(rank[edge.i], rank[edge.j])
            if not reason and earliest[ri] < pair_rank and earliest[rj] < pair_rank:
                reason = "would_fuse_earlier_publications"
            if reason:
                maybe.append(Edge(edge.i, edge.j, f"{edge.rule}_blocked_by_{reason}", edge.score))
                continue
        elif _forbidden_between(members[ri], members[rj], forbidden):
            raise VerdictContradiction(features[edge.i].record_id, features[edge.j].record_id)
        if len(members[ri]) < len(members[rj]):
            ri, rj = rj, ri
        parent[rj] = ri
        members[ri].extend(members.pop(rj))
        earliest[ri] = min(earliest[ri], earliest[rj])
        tree.append(edge)

    cluster_of = [find(i) for i in range(n)]
    open_pairs = [e for e in maybe if cluster_of[e.i] != cluster_of[e.j]]
    return Clustering(cluster_of=cluster_of, tree=tree, maybe=open_pairs)


def _decided_edges(
    features: Sequence[Features],
    settings: MatchSettings,
    rank: Sequence[int],
    same_pairs: set[tuple[int, int]],
    forbidden: Mapping[int, set[int]],
) -> tuple[list[Edge], list[Edge]]:
    """Compare every candidate pair the verdicts leave open: the ``same`` edges (human
    verdicts first, then run by run, strongest rule first) and the ``maybe`` edges."""
    edges: list[Edge] = []
    maybe: list[Edge] = []
    for i, j in candidate_pairs(features, settings.max_block):
        if (i, j) in same_pairs or j in forbidden.get(i, ()):
            continue
        result = compare(features[i], features[j], settings)
        if result.decision == SAME:
            edges.append(Edge(i, j, result.rule, result.score))
        elif result.decision == MAYBE:
            maybe.append(Edge(i, j, result.rule, result.score))
    edges.extend(Edge(i, j, "verdict", 100.0) for i, j in same_pairs)
    edges.sort(
        key=lambda e: (
            e.rule != "verdict",
            max(rank[e.i], rank[e.j]),
            _RULE_STRENGTH.get(e.rule, 9),
            -e.score,
            features[e.i].record_id,
            features[e.j].record_id,
        )
    )
    return edges, maybe


def _forbidden_between(
    left: list[int], right: list[int], forbidden: Mapping[int, set[int]]
) -> bool:
    right_set = set(right)
    return any(forbidden.get(i, set()) & right_set for i in left)


def _merge_blocker(
    left: list[int],
    right: list[int],
    features: Sequence[Features],
    forbidden: Mapping[int, set[int]],
) -> str:
    if _forbidden_between(left, right, forbidden):
        return "verdict_different"
    if len(left) * len(right) > 400:
        return "cluster_too_large"
    for i in left:
        for j in right:
            reason = conflict(features[i], features[j])
            if reason:
                return reason
    return ""
