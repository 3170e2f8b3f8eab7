"""The queue's transparent ranking score: likely inclusions first.

Each publication is a set of terms (:func:`ranking_terms`); each term seen often enough among
the publications already decided gets a shrunken log-ratio weight (:func:`learn_weights`); a
publication's score is the sum of its terms' weights. :func:`evaluate_ranking` says, by
cross-validation on the decisions made, how well that order finds the included ones.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..text import fold_for_terms
from .hints import eligibility_hints
from .settings import RankingSettings
from .vocabulary import split_multi

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
    if not positives or not negatives:
        return {}
    n_pos, n_neg = len(positives), len(negatives)
    pos_counts = Counter(t for terms in positives for t in terms)
    neg_counts = Counter(t for terms in negatives for t in terms)
    s = settings.shrinkage
    weights: dict[str, TermWeight] = {}
    for term in set(pos_counts) | set(neg_counts):
        a, b = pos_counts[term], neg_counts[term]
        if a + b < settings.min_document_frequency:
            continue
        r = (a + b) / (n_pos + n_neg)
        p_inc = (a + s * r) / (n_pos + s)
        p_exc = (b + s * r) / (n_neg + s)
        weights[term] = TermWeight(term, a, b, math.log(p_inc / p_exc))
    return weights


def score_terms(terms: Iterable[str], weights: Mapping[str, TermWeight]) -> float:
    """Sum of the weights of the terms present (0 when nothing was learnt)."""
    return sum(weights[t].weight for t in terms if t in weights)


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
    for fold in range(k):
        train_pos = [t for i, t in enumerate(positives) if i % k != fold]
        train_neg = [t for i, t in enumerate(negatives) if i % k != fold]
        weights = learn_weights(train_pos, train_neg, settings)
        scored += [(score_terms(t, weights), 1) for i, t in enumerate(positives) if i % k == fold]
        scored += [(score_terms(t, weights), 0) for i, t in enumerate(negatives) if i % k == fold]
    order = sorted(scored, key=lambda item: (-item[0], item[1]))
    n_pos, n = len(positives), len(order)
    ranks = [i + 1 for i, (_, label) in enumerate(order) if label == 1]
    precision_sum = sum((j + 1) / rank for j, rank in enumerate(ranks))
    wins = sum(
        1.0 if ps > ns else 0.5 if ps == ns else 0.0
        for ps, pl in scored
        if pl == 1
        for ns, nl in scored
        if nl == 0
    )
    auc = wins / (n_pos * len(negatives))
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
) -> Ranking:
    """Learn the score from the publications with a final decision.

    ``records``: every publication's record; ``included``: for each publication decided for
    good, whether it was included (True) or excluded (False). Publications are taken in
    sorted id order, so the cross-validation folds are the same on every run.
    """
    terms = {pid: ranking_terms(record) for pid, record in records.items()}
    labelled = sorted(included)
    positives = [terms[p] for p in labelled if included[p]]
    negatives = [terms[p] for p in labelled if not included[p]]
    if not settings.enabled:
        return Ranking(terms, {}, [], settings)
    return Ranking(
        terms,
        learn_weights(positives, negatives, settings),
        evaluate_ranking(positives, negatives, settings),
        settings,
    )
