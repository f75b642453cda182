"""A neighbors or translations request decided once, at the HTTP edge, before any work.

`plan(model, request, limits)` checks the options against each other and the configured limits,
chooses the route that answers (below), and predicts the work, refusing it over the budget. The
route's steps take the plan and never decide again.

Where the prediction needs the queries themselves (a text of one piece is a table lookup, of several
a search; a translation's default targets leave out the query's own script), `Plan.admit` completes
it once they are resolved, before any search; the decisions still live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from geometry import shaping
from geometry.neighbors import BATCH_EXACT
from service import request_types as r
from service.budget import Work, check_query_work, check_rows
from service.errors import InvalidInput
from service.lexicons import Lexicon
from service.queries.filters import neighbor_mask
from service.registry import LoadedModel
from service.settings import Limits

QueryRequest = r.NeighborsRequest | r.TranslationsRequest
Space = Literal["input", "encoder"]
Route = Literal["table", "search", "best_score", "lexicon", "given", "encoder_words", "encoder_given"]
ROUTES: dict[Route, str] = {
    "table": "one token's neighbors read from the exact table (cheap enough for the event loop)",
    "search": "the vocabulary's tokens: the exact table where it holds the answer, else HNSW or a scan",
    "best_score": "the examples' best-score ranking over the allowed tokens (a scan per example)",
    "lexicon": "the lexicon's words, composed from their pieces (pool=words)",
    "given": "the candidates the request gives (candidates=)",
    "encoder_words": "the encoded lexicon words (space=encoder); queries encoded at request time",
    "encoder_given": "the given candidates, encoded with the queries (space=encoder, candidates=)",
}
ENCODER_ONLY_LANGUAGES = ("scripts", "exclude_scripts")
INPUT_ONLY = ("positive", "exact", "approximate", "exclude_anomalous", "mutual", "mmr", "target_scripts")
NOT_WITH_WORDS = ("target_scripts", "mutual", "mmr", "positive")
NOT_WITH_GIVEN = ("target_scripts", "target_languages", "mutual", "mmr", "group_by", "positive")


@dataclass(frozen=True, kw_only=True)
class Plan:
    request: QueryRequest
    route: Route
    batch: bool  # a batch (`queries`): answered as a list, in order
    queries: int  # how many queries (a batch's length, else 1)
    depth: int  # ranked candidates the options choose from (k, or more for MMR and groups)
    answer_size: int  # rows one query may answer
    field: str  # the request field a refusal names: "queries" for a batch, else "k"
    work: Work  # predicted before the queries are resolved
    limits: Limits
    space: Space = "input"  # the space that answers: as asked, or (word lookups) the best the model has
    mask: np.ndarray | None = None  # neighbors: the tokens the filters allow (None: every indexed token)

    @property
    def inline(self) -> bool:
        """A few exact-table lookups: answered on the event loop."""
        return self.route == "table"

    @property
    def best_score(self) -> bool:
        return self.route == "best_score"

    def admit(self, more: Work) -> None:
        """The whole prediction, with what the resolved queries add, refused over the budget."""
        check_query_work(more, self.limits, self.field)

    def admit_search(self, model: LoadedModel, tokens: list[int | None]) -> None:
        """Searching the vocabulary for these queries (token None: a vector, or a text of several
        pieces) among the tokens the filters allow, admitted or refused with the plan's own work."""
        request, dim, mask = self.request, model.manifest.dim, self.mask
        rows = allowed_rows(model, mask)
        if self.best_score:  # every allowed row against every example
            self.admit(self.work.scans(examples(request), rows, dim, batched=True))
            return
        table = not getattr(request, "exact", False) and self.depth <= model.space.table_k
        approximate = getattr(request, "approximate", False)
        scans = sum(
            1 for token in tokens if not table or mask is not None or (token is None and not approximate)
        )
        self.admit(self.work.scans(scans, rows, dim, batched=scans >= BATCH_EXACT))

    def admit_translations(
        self, model: LoadedModel, tokens: list[int | None], groups: list[tuple[int, np.ndarray]]
    ) -> None:
        """Each group of queries (how many, the rows their targets allow) scans its targets (best
        score: each example does); CSLS adds a scan of the vocabulary for every query that is not a
        token (its neighborhood mean)."""
        dim, work = model.manifest.dim, self.work
        for members, mask in groups:
            rows = int(mask.sum())
            if self.best_score:
                work = work.scans(examples(self.request), rows, dim, batched=True)
            else:
                work = work.scans(members, rows, dim)
        self.admit(self.csls_means_work(model, tokens, work))

    def csls_means_work(self, model: LoadedModel, tokens: list[int | None], work: Work) -> Work:
        """CSLS needs each free query's neighborhood mean over the vocabulary: a scan each."""
        if getattr(self.request, "method", "cosine") != "csls":
            return work
        free = sum(1 for token in tokens if token is None)
        return work.scans(free, len(model.space.indexed), model.manifest.dim)


def examples(request: QueryRequest) -> int:
    return len(request.positive or []) + len(request.negative or [])


def _filtered(request: QueryRequest) -> bool:
    return bool(getattr(request, "scripts", None) or getattr(request, "exclude_scripts", None)
                or getattr(request, "languages", None) or request.exclude_anomalous)  # fmt: skip


def check_limits(request: QueryRequest, limits: Limits) -> None:
    """The configured limits (they may be lower than the Struct's documented maxima)."""
    if request.queries is not None and len(request.queries) > limits.max_batch:
        raise InvalidInput(
            f"{len(request.queries)} queries; the limit is {limits.max_batch}", field="queries"
        )
    if request.k > limits.max_k:
        raise InvalidInput(f"k must be between 1 and {limits.max_k}, got {request.k}", field="k")


def check_options(request: QueryRequest) -> None:
    """Combinations the options cannot serve together, before any work."""
    if request.cursor is not None and request.limit is None:
        raise InvalidInput("a cursor pages through results: give limit (the page size) too", field="cursor")
    if request.group_by is not None and (request.limit is not None or request.mmr is not None):
        raise InvalidInput("group_by cannot be combined with paging (limit, cursor) or mmr", field="group_by")
    if request.strategy == "best_score" and not request.positive:
        raise InvalidInput(
            "strategy=best_score ranks by examples: give positive (and negative)", field="strategy"
        )


def _check_encoder(model: LoadedModel, request: QueryRequest) -> None:
    model.encoded()  # a 400 saying why when there is none
    for option in INPUT_ONLY:
        if getattr(request, option, None):
            raise InvalidInput(f"{option} is not available with space=encoder", field=option)
    for option in ENCODER_ONLY_LANGUAGES:
        if getattr(request, option, None):
            raise InvalidInput(f"space=encoder filters by languages, not {option}", field=option)
    if request.group_by == "script":
        raise InvalidInput("space=encoder groups by language only", field="group_by")
    if isinstance(request, r.NeighborsRequest):
        words = model.encoded().words
        if words.lacks(request.languages or []):
            raise InvalidInput(f"the encoder space holds {', '.join(words.languages)}", field="languages")


def _check_given(request: r.TranslationsRequest) -> None:
    """What candidates replace, and the options that need a ranking of the whole vocabulary."""
    for option in NOT_WITH_GIVEN:
        if getattr(request, option):
            raise InvalidInput(f"candidates replace the candidate set: {option} does not apply", field=option)
    if request.pool != "tokens":
        raise InvalidInput("candidates replace the candidate set: leave out pool", field="pool")


def _check_words(model: LoadedModel, request: r.TranslationsRequest, space: Space) -> None:
    pool = model.words_in(space)
    for option in NOT_WITH_WORDS:
        if getattr(request, option):
            raise InvalidInput(f"{option} is not available with pool=words", field=option)
    if request.group_by == "script":
        raise InvalidInput("pool=words groups by language only", field="group_by")
    for field in ("target_languages", "source_language"):
        asked = getattr(request, field) or []
        unknown = pool.lacks([asked] if isinstance(asked, str) else asked)
        if unknown:
            raise InvalidInput(
                f"the lexicon holds {', '.join(pool.languages)}, not {', '.join(unknown)}", field=field
            )


def _table_lookup(model: LoadedModel, request: r.NeighborsRequest, depth: int) -> bool:
    """One token (or id) query whose every candidate the exact table holds: no filter, no examples,
    no brute force, and a depth (k, or what MMR and groups need) within the table's width."""
    single = request.queries is None and request.vector is None and request.text is None
    plain = single and not request.positive and not request.exact
    return plain and not _filtered(request) and depth <= model.space.table_k


def chosen_space(model: LoadedModel, request: QueryRequest | r.EvaluateRequest) -> Space:
    """The space asked, or when none is: the encoder space for word lookups (pool=words) where the
    model has one and no option needs the input table, else the input space (the paper's geometry)."""
    if request.space is not None:
        return request.space
    words = getattr(request, "pool", "tokens") == "words" and getattr(request, "candidates", None) is None
    if not words or model.encoder_space is None:
        return "input"
    needs_input = [*INPUT_ONLY, *ENCODER_ONLY_LANGUAGES]
    if (
        any(getattr(request, option, None) for option in needs_input)
        or getattr(request, "group_by", None) == "script"
    ):
        return "input"
    return "encoder"


def route(model: LoadedModel, request: QueryRequest, depth: int, space: Space) -> Route:
    """Which candidates answer, in which space, and how; the route's own option rules checked."""
    encoder = space == "encoder"
    if encoder:
        _check_encoder(model, request)
    if isinstance(request, r.NeighborsRequest):
        if encoder:
            return "encoder_words"
        if request.positive and request.strategy == "best_score":
            return "best_score"
        return "table" if _table_lookup(model, request, depth) else "search"
    if request.source_language is not None and not (encoder or request.pool == "words"):
        raise InvalidInput("source_language applies to word lookups (pool=words)", field="source_language")
    if request.candidates is not None:
        _check_given(request)
        return "encoder_given" if encoder else "given"
    if encoder or request.pool == "words":
        _check_words(model, request, space)
        return "encoder_words" if encoder else "lexicon"
    return "best_score" if request.positive and request.strategy == "best_score" else "search"


TOKEN_CHARS = 8  # a token or id query is encoded as its text: a word's length, about


def encoded_texts(request: QueryRequest, known: Lexicon | None = None) -> tuple[int, int]:
    """(texts, characters) the encoder reads for a request in the encoder space: each query but a
    vector, and the given candidates; a text `known` holds (a word lookup) is read from there."""
    queries = request.queries if request.queries is not None else [request]
    source = getattr(request, "source_language", None)
    texts = [
        q.text
        for q in queries
        if q.text is not None and (known is None or known.written(q.text, source) is None)
    ] + list(getattr(request, "candidates", None) or [])
    tokens = sum(1 for q in queries if q.text is None and q.vector is None)
    return len(texts) + tokens, sum(map(len, texts)) + TOKEN_CHARS * tokens


def text_characters(request: QueryRequest) -> int:
    """Characters the model's tokenizer may segment: texts, examples, candidates."""
    texts = [request.text, *(q.text for q in request.queries or [])]
    texts += [
        *(request.positive or []),
        *(request.negative or []),
        *(getattr(request, "candidates", None) or []),
    ]
    return sum(len(text) for text in texts if text)


def encoding_work(model: LoadedModel, texts: int, characters: int, work: Work | None = None) -> Work:
    """Encoding `texts` of `characters` in all, at the rate this process measures (at first, the
    encoder space's build rate: e5 ~260 words/s on 2 cores)."""
    work = work or Work()
    return work.add("encoding", model.encoded().cost.predict(texts, characters)) if texts else work


def _known_work(model: LoadedModel, request: QueryRequest, chosen: Route, queries: int, depth: int) -> Work:
    """What the route costs before its queries are resolved."""
    size = request.k * request.group_size if request.group_by else request.k
    work = Work().texts(text_characters(request)).answer(queries * size)
    if request.group_by is not None:
        work = work.grouping(queries, depth)
    if chosen == "lexicon":  # each query against its target languages' words, one at a time
        return work.scans(queries, _searched_rows(model.pool(), request), model.manifest.dim, batched=False)
    if chosen in ("encoder_words", "encoder_given"):
        words = model.encoded().words
        dim = words.space.matrix.shape[1]
        texts, characters = encoded_texts(request, words if chosen == "encoder_words" else None)
        work = encoding_work(model, texts, characters, work)
        given = len(getattr(request, "candidates", None) or [])
        rows = given if chosen == "encoder_given" else _searched_rows(words, request)
        # CSLS means among all the words: of each encoded query (CSLS only), of each given candidate
        means = texts if getattr(request, "method", "cosine") == "csls" else given
        return work.scans(queries, rows, dim, batched=False).scans(means, len(words.words), dim)
    return work


def _searched_rows(words: Lexicon, request: QueryRequest) -> int:
    """The words a word query ranks: its named target languages' (or, neighbors, languages'), else
    all (a translation's default targets leave out only the query's own language)."""
    named = getattr(request, "target_languages", None) or getattr(request, "languages", None)
    return len(words.language_rows(named)) if named else len(words.words)


def plan(model: LoadedModel, request: QueryRequest, limits: Limits) -> Plan:
    """The plan, or the 400 (InvalidInput, OverBudget) that refuses the request before any work."""
    check_limits(request, limits)
    check_options(request)
    groups = request.k if request.group_by else 0
    depth = shaping.depth(
        request.k, mmr=request.mmr is not None, groups=groups, group_size=request.group_size
    )
    size = request.k * request.group_size if request.group_by else request.k
    batch = request.queries is not None
    queries = len(request.queries) if request.queries is not None else 1
    field = "queries" if batch else "k"
    check_rows(limits, queries, size, field)
    space = chosen_space(model, request)
    chosen = route(model, request, depth, space)
    work = _known_work(model, request, chosen, queries, depth)
    check_query_work(work, limits, field)
    searched = chosen in ("search", "best_score")
    mask = neighbor_mask(model, request) if isinstance(request, r.NeighborsRequest) and searched else None
    return Plan(
        request=request, route=chosen, batch=batch, queries=queries, depth=depth,
        answer_size=size, field=field, work=work, limits=limits, space=space,
        mask=mask,
    )  # fmt: skip


def allowed_rows(model: LoadedModel, mask: np.ndarray | None) -> int:
    return len(model.space.indexed) if mask is None else int(mask.sum())
