"""The queue's transparent ranking score: likely inclusions first.

Each publication is a set of terms (:func:`ranking_terms`); each term seen often enough among
the publications already decided gets a shrunken log-ratio weight (:func:`learn_weights`); a
publication's score is the sum of its terms' weights. :func:`evaluate_ranking` says, by
cross-validation on the decisions made, how well that order finds the included ones.

Every run learns the score afresh for every queue (:func:`train_queue_rankings`): a reviewer's
queue at a stage is ranked by weights learnt from the *settled* decisions of that stage
(:func:`settled_labels`: agreed, adjudicated or the baseline's) plus that reviewer's *own*
decisions not yet settled (:func:`own_labels`). Never from another reviewer's unsettled
decision: under blinded screening the order of one's queue would otherwise betray it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..text import fold_for_terms
from .hints import eligibility_hints
from .resolve import Resolution
from .settings import RankingSettings
from .vocabulary import FULL_TEXT, STAGES, TITLE_ABSTRACT, split_multi

_STOPWORDS = frozenset(
    """a about after again all also an and any are as at be been before being between both but by can
    could did do does during each for from had has have having he her here his how i if in into is it its
    more most no nor not of off on once only or other our out over own same she should so some such than
    that the their them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your using used use may were vs versus
    patient patients study studies case cases report reported results result conclusion conclusions
    background methods method aim aims objective objectives""".split()
)
_TOKEN = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")


def ranking_terms(record: Mapping[str, str]) -> set[str]:
    """Distinct terms the ranking score looks at: words of title and abstract, publication
    types (``pt:``), MeSH terms (``mesh:``) and eligibility hints (``hint:``).

    >>> sorted(ranking_terms({"title": "Tacrolimus for AIH", "abstract": "",
    ...                       "publication_types": "Review", "mesh_terms": ""}))
    ['aih', 'hint:no abstract', 'hint:publication type: review', 'pt:review', 'tacrolimus']
    """
    text = fold_for_terms(f"{record.get('title', '')} {record.get('abstract', '')}")
    terms = {t for t in _TOKEN.findall(text) if len(t) >= 3 and t not in _STOPWORDS}
    terms |= {f"pt:{fold_for_terms(p)}" for p in split_multi(record.get("publication_types", ""))}
    terms |= {f"mesh:{fold_for_terms(m)}" for m in split_multi(record.get("mesh_terms", ""))}
    terms |= {f"hint:{h}" for h in eligibility_hints(record) if not h.startswith("language ")}
    return terms


@dataclass(frozen=True)
class TermWeight:
    term: str
    n_included: int
    n_excluded: int
    weight: float


@dataclass(frozen=True)
class TermCounts:
    """In how many included and how many excluded publications each term occurs: all that
    :func:`learn_weights` needs, and cheap to add up (a reviewer's queue adds that reviewer's
    own decisions to the counts of the settled ones instead of counting everything again)."""

    n_included: int
    n_excluded: int
    included: Counter[str]
    excluded: Counter[str]

    @classmethod
    def of(cls, positives: Sequence[set[str]], negatives: Sequence[set[str]]) -> TermCounts:
        return cls(
            len(positives),
            len(negatives),
            Counter(t for terms in positives for t in terms),
            Counter(t for terms in negatives for t in terms),
        )

    def plus(self, other: TermCounts) -> TermCounts:
        """The counts of both sets of publications (which must not overlap)."""
        return TermCounts(
            self.n_included + other.n_included,
            self.n_excluded + other.n_excluded,
            self.included + other.included,
            self.excluded + other.excluded,
        )

    def minus(self, part: TermCounts) -> TermCounts:
        """The counts without those of ``part``, a subset of these publications."""
        return TermCounts(
            self.n_included - part.n_included,
            self.n_excluded - part.n_excluded,
            self.included - part.included,
            self.excluded - part.excluded,
        )


def learn_weights(
    positives: Sequence[set[str]], negatives: Sequence[set[str]], settings: RankingSettings
) -> dict[str, TermWeight]:
    """Log-likelihood ratio of each term between included and excluded publications.

    ``weight = ln(p_inc / p_exc)`` with ``p_inc = (n_inc + s*r) / (N_inc + s)`` and
    ``p_exc = (n_exc + s*r) / (N_exc + s)``, where ``r`` is the term's share of all labelled
    publications and ``s`` the shrinkage (pseudo-publications at that share), so a term seen
    once moves the score little.  Only terms in at least ``min_document_frequency`` labelled
    publications get a weight.  Empty when either class is empty.
    """
    return weights_from_counts(TermCounts.of(positives, negatives), settings)


def weights_from_counts(counts: TermCounts, settings: RankingSettings) -> dict[str, TermWeight]:
    """:func:`learn_weights` from term counts already made."""
    n_pos, n_neg = counts.n_included, counts.n_excluded
    if not n_pos or not n_neg:
        return {}
    s = settings.shrinkage
    weights: dict[str, TermWeight] = {}
    for term in sorted(set(counts.included) | set(counts.excluded)):
        a, b = counts.included[term], counts.excluded[term]
        if a + b < settings.min_document_frequency:
            continue
        r = (a + b) / (n_pos + n_neg)
        p_inc = (a + s * r) / (n_pos + s)
        p_exc = (b + s * r) / (n_neg + s)
        weights[term] = TermWeight(term, a, b, math.log(p_inc / p_exc))
    return weights


def score_terms(terms: Iterable[str], weights: Mapping[str, TermWeight]) -> float:
    """Sum of the weights of the terms present (0 when nothing was learnt).

    Summed exactly (``math.fsum``), so the result does not depend on the order a set of terms
    happens to be iterated in: publications whose weights are equal tie exactly, and the
    queue's tie-break (first run, then id) decides, the same on every run.
    """
    return math.fsum(weights[t].weight for t in terms if t in weights)


def top_terms(terms: Iterable[str], weights: Mapping[str, TermWeight], n: int) -> str:
    """The ``n`` terms that move this score most, with their signed weights."""
    present = sorted(
        (weights[t] for t in terms if t in weights), key=lambda w: (-abs(w.weight), w.term)
    )
    return "; ".join(f"{w.term} {w.weight:+.2f}" for w in present[:n])


def evaluate_ranking(
    positives: Sequence[set[str]], negatives: Sequence[set[str]], settings: RankingSettings
) -> list[dict[str, object]]:
    """Cross-validated quality of the score on publications already decided.

    Stratified ``folds``-fold cross-validation (fold = position modulo k in the given order):
    each fold is scored by weights learnt on the others, then the pooled out-of-fold ranking
    is summarised.  Ties are broken against the included publications (pessimistic).
    """
    k = min(settings.folds, len(positives), len(negatives))
    if k < 2:
        return [
            {
                "metric": "labelled",
                "value": f"{len(positives)} included / {len(negatives)} excluded",
                "meaning": "too few decisions to evaluate the ranking (needs >= 2 of each)",
            }
        ]
    scored: list[tuple[float, int]] = []
    # count each fold once; the training counts of a fold are all counts minus its own
    folds = [
        TermCounts.of(
            [t for i, t in enumerate(positives) if i % k == fold],
            [t for i, t in enumerate(negatives) if i % k == fold],
        )
        for fold in range(k)
    ]
    everything = folds[0]
    for counts in folds[1:]:
        everything = everything.plus(counts)
    for fold in range(k):
        weights = weights_from_counts(everything.minus(folds[fold]), settings)
        scored += [(score_terms(t, weights), 1) for i, t in enumerate(positives) if i % k == fold]
        scored += [(score_terms(t, weights), 0) for i, t in enumerate(negatives) if i % k == fold]
    order = sorted(scored, key=lambda item: (-item[0], item[1]))
    n_pos, n = len(positives), len(order)
    ranks = [i + 1 for i, (_, label) in enumerate(order) if label == 1]
    precision_sum = sum((j + 1) / rank for j, rank in enumerate(ranks))
    auc = _mann_whitney_wins(scored) / (n_pos * len(negatives))
    need95 = ranks[math.ceil(0.95 * n_pos) - 1]
    return [
        {
            "metric": "labelled",
            "value": f"{n_pos} included / {len(negatives)} excluded",
            "meaning": "publications with a final decision used for training",
        },
        {"metric": "folds", "value": k, "meaning": "stratified cross-validation folds"},
        {
            "metric": "roc_auc",
            "value": f"{auc:.3f}",
            "meaning": "chance that an included publication outranks an excluded one (0.5 = random)",
        },
        {
            "metric": "average_precision",
            "value": f"{precision_sum / n_pos:.3f}",
            "meaning": f"mean precision at each included publication's rank (random ~ {n_pos / n:.3f})",
        },
        {
            "metric": "screened_to_find_all",
            "value": f"{ranks[-1]}/{n}",
            "meaning": "publications read in rank order until the last included one",
        },
        {
            "metric": "screened_to_find_95pct",
            "value": f"{need95}/{n}",
            "meaning": "publications read in rank order until 95% of included ones were found",
        },
        {
            "metric": "included_ranks",
            "value": ", ".join(map(str, ranks)),
            "meaning": "rank of every included publication in the pooled out-of-fold order",
        },
    ]


def _mann_whitney_wins(scored: Sequence[tuple[float, int]]) -> float:
    """Pairs (included, excluded) in which the included scores higher, ties counting half:
    the ROC AUC's numerator, from the ranks (midranks for ties) in O(n log n) rather than by
    comparing every pair. Exact: every term is a multiple of 0.5."""
    ordered = sorted(score for score, _ in scored)
    midrank: dict[float, float] = {}
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or ordered[end] != ordered[start]:
            midrank[ordered[start]] = (start + 1 + end) / 2
            start = end
    n_pos = sum(label for _, label in scored)
    rank_sum = sum(midrank[score] for score, label in scored if label == 1)
    return rank_sum - n_pos * (n_pos + 1) / 2


@dataclass(frozen=True)
class Ranking:
    """The score of one run: every publication's terms and the weights learnt this run."""

    terms: Mapping[str, set[str]]
    weights: Mapping[str, TermWeight]
    evaluation: list[dict[str, object]]
    settings: RankingSettings

    def score(self, publication_id: str) -> float:
        return score_terms(self.terms[publication_id], self.weights)

    def explain(self, publication_id: str) -> str:
        """The terms that moved this publication's score most (the queue's ``score_terms``)."""
        return top_terms(self.terms[publication_id], self.weights, self.settings.terms_shown)

    def weight_rows(self) -> list[dict[str, object]]:
        """``ranking_weights.tsv``: every weight, largest first."""
        return [
            {
                "term": w.term,
                "n_included": w.n_included,
                "n_excluded": w.n_excluded,
                "weight": f"{w.weight:.4f}",
            }
            for w in sorted(self.weights.values(), key=lambda w: (-w.weight, w.term))
        ]


def train_ranking(
    records: Mapping[str, Mapping[str, str]],
    included: Mapping[str, bool],
    settings: RankingSettings,
    terms: Mapping[str, set[str]] | None = None,
    evaluate: bool = True,
) -> Ranking:
    """Learn the score from labelled publications.

    ``records``: every publication's record; ``included``: for each labelled publication,
    whether it counts as included (True) or excluded (False). Publications are taken in
    sorted id order, so the cross-validation folds are the same on every run. ``terms``: the
    records' :func:`ranking_terms`, when already computed (they are shared, not copied);
    ``evaluate``: also run the cross-validation (:func:`evaluate_ranking`).
    """
    if terms is None:
        terms = {pid: ranking_terms(record) for pid, record in records.items()}
    if not settings.enabled:
        return Ranking(terms, {}, [], settings)
    labelled = sorted(included)
    positives = [terms[p] for p in labelled if included[p]]
    negatives = [terms[p] for p in labelled if not included[p]]
    return Ranking(
        terms,
        learn_weights(positives, negatives, settings),
        evaluate_ranking(positives, negatives, settings) if evaluate else [],
        settings,
    )


#: What a decision teaches the score at each stage (None: nothing). At title/abstract the
#: question is "does it go on to full text?", so include and maybe both count as included; at
#: full text "is it included?": maybe (for adjudication) and not_retrieved say nothing either way.
DECISION_LABELS: dict[str, dict[str, bool | None]] = {
    TITLE_ABSTRACT: {"include": True, "maybe": True, "exclude": False},
    FULL_TEXT: {"include": True, "exclude": False, "maybe": None, "not_retrieved": None},
}


def settled_labels(stage: str, resolution: Resolution) -> dict[str, bool]:
    """The settled decisions a queue at ``stage`` learns from: publication -> included?

    Title/abstract: every publication whose title/abstract outcome is final (agreed,
    adjudicated or the baseline's): passed (include or maybe) or excluded. Full text: every
    final full-text inclusion or exclusion, plus the title/abstract exclusions, which are
    settled "not included" too (without them the full-text score would learn from the few
    exclusions made at full text only).
    """
    labels: dict[str, bool] = {}
    if stage == FULL_TEXT:
        for pid, outcome in resolution.title_abstract.items():
            if outcome.state == "final" and outcome.decision == "exclude":
                labels[pid] = False
    for pid, outcome in resolution.at(stage).items():
        label = DECISION_LABELS[stage].get(outcome.decision)
        if outcome.state == "final" and label is not None:
            labels[pid] = label
    return labels


def own_labels(stage: str, reviewer: str, resolution: Resolution) -> dict[str, bool]:
    """``reviewer``'s own decisions at ``stage`` on publications not settled there yet (those
    awaiting another reviewer, or in conflict): publication -> included?"""
    labels: dict[str, bool] = {}
    for pid, outcome in resolution.at(stage).items():
        if outcome.state == "final":
            continue
        for decision in outcome.decisions:
            label = DECISION_LABELS[stage].get(decision.decision)
            if decision.reviewer == reviewer and label is not None:
                labels[pid] = label
    return labels


@dataclass(frozen=True)
class QueueRankings:
    """Every score of one run: per stage, the one learnt from the settled decisions (written
    to ``ranking_weights.tsv`` and evaluated in ``ranking_evaluation.tsv``), and per reviewer
    and stage with own unsettled decisions, the one that ranks that reviewer's queue (settled
    plus the reviewer's own); the other queues are ranked by their stage's settled score."""

    settled: Mapping[str, Ranking]
    queues: Mapping[tuple[str, str], Ranking]

    def of_queue(self, stage: str, reviewer: str) -> Ranking:
        """The score that orders ``reviewer``'s queue at ``stage``."""
        return self.queues.get((stage, reviewer), self.settled[stage])

    def weight_rows(self) -> list[dict[str, object]]:
        """``ranking_weights.tsv``: every settled weight per stage, largest first."""
        return [{"stage": s, **row} for s in STAGES for row in self.settled[s].weight_rows()]

    def evaluation_rows(self) -> list[dict[str, object]]:
        """``ranking_evaluation.tsv``: the cross-validated quality of each stage's score."""
        return [
            {"stage": s, **row, **_what_was_labelled(s, row)}
            for s in STAGES
            for row in self.settled[s].evaluation
        ]


#: What "included" and "excluded" mean in the evaluation of each stage's score.
LABELLED_MEANING = {
    TITLE_ABSTRACT: "publications with a settled title/abstract decision used for training "
    "(included: passed to full text)",
    FULL_TEXT: "publications settled for good used for training "
    "(included at full text; excluded at title/abstract or full text)",
}


def _what_was_labelled(stage: str, row: Mapping[str, object]) -> dict[str, object]:
    if row["metric"] == "labelled" and not str(row["meaning"]).startswith("too few"):
        return {"meaning": LABELLED_MEANING[stage]}
    return {}


def train_queue_rankings(
    records: Mapping[str, Mapping[str, str]],
    resolution: Resolution,
    reviewers: Sequence[str],
    settings: RankingSettings,
) -> QueueRankings:
    """Learn the score of every reviewer's queue at every stage.

    Each stage's score learns from that stage's :func:`settled_labels`; a reviewer with
    decisions of their own not yet settled there gets a score that learns from those too
    (:func:`own_labels`). Another reviewer's unsettled decision never reaches it, so it
    cannot show through the order of this reviewer's queue; a settled one moves every queue.
    """
    terms = {pid: ranking_terms(record) for pid, record in records.items()}
    settled: dict[str, Ranking] = {}
    queues: dict[tuple[str, str], Ranking] = {}
    for stage in STAGES:
        labels = settled_labels(stage, resolution)
        if not settings.enabled:
            settled[stage] = Ranking(terms, {}, [], settings)
            continue
        labelled = sorted(labels)  # sorted: the same folds on every run
        positives = [terms[p] for p in labelled if labels[p]]
        negatives = [terms[p] for p in labelled if not labels[p]]
        settled_counts = TermCounts.of(positives, negatives)
        settled[stage] = Ranking(
            terms,
            weights_from_counts(settled_counts, settings),
            evaluate_ranking(positives, negatives, settings),
            settings,
        )
        for reviewer in reviewers:
            own = {
                p: v for p, v in own_labels(stage, reviewer, resolution).items() if p not in labels
            }
            if own:
                counts = settled_counts.plus(_counts(own, terms))
                weights = weights_from_counts(counts, settings)
                queues[(stage, reviewer)] = Ranking(terms, weights, [], settings)
    return QueueRankings(settled, queues)


def _counts(labels: Mapping[str, bool], terms: Mapping[str, set[str]]) -> TermCounts:
    return TermCounts.of(
        [terms[p] for p, included in labels.items() if included],
        [terms[p] for p, included in labels.items() if not included],
    )
