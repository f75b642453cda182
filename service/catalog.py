"""What the loaded models are: their descriptions (sizes, index, table, label schemes, lexicon,
spaces) and token search over their vocabularies."""

from __future__ import annotations

import numpy as np

from loaders import artifact
from service import request_types as r
from service import response_types as s
from service.analyses.lexicon_costs import lexicon_languages
from service.echo import echoed
from service.encoder_spaces import build_progress
from service.errors import at
from service.registry import WORD_MARK, LoadedModel
from service.token_descriptions import token_out


def table_out(m: artifact.Manifest) -> s.NeighborTableOut | None:
    if m.knn_k == 0:
        return None
    table = m.table or artifact.TableInfo("exact", "numpy")  # artifacts before TableInfo: exact
    return echoed(table, s.NeighborTableOut, k=m.knn_k)


def encoder_out(model: LoadedModel) -> s.EncoderSpaceOut:
    if model.encoder_space is None:
        building = build_progress(model.directory)
        if building is None:
            return s.EncoderSpaceOut(ready=False, reason=model.encoder_missing)
        done, total = building
        reason = f"{model.name}'s encoder space is being built: {done:,} of {total:,} words encoded"
        return s.EncoderSpaceOut(ready=False, reason=reason, progress=round(done / max(total, 1), 4))
    info = model.encoder_space.info
    return echoed(
        info, s.EncoderSpaceOut, ready=True, encoder=info.encoder.describe(), words=info.rows,
        build_seconds=info.seconds,
    )  # fmt: skip


def model_out(model: LoadedModel) -> s.ModelOut:
    m = model.manifest
    schemes = {
        name: s.LabelSchemeOut(
            unicode_version=info.unicode_version,
            description=info.description,
            counts=model.labels[name].counts(),
        )
        for name, info in m.labels.items()
    }
    languages = None
    if m.languages is not None and model.languages is not None:
        languages = echoed(m.languages, s.LanguagesInfoOut, supported=model.languages.supported)
    return echoed(  # the manifest's fields of the same names (source, index, lexicon: their answers)
        m,
        s.ModelOut,
        source=echoed(m.source, s.SourceOut),
        index=echoed(m.index, s.IndexOut),
        exact_neighbors=m.knn_k,
        label_schemes=schemes,
        checksum=model.checksum,
        vocabulary_description=artifact.VOCABULARIES.get(m.vocabulary, ""),
        kinds=model.kind_counts,
        lexicon=lexicon_languages(model),
        languages=languages,
        neighbor_table=table_out(m),
        spaces=["input", "encoder"] if model.encoder_space is not None else ["input"],
        encoder_space=encoder_out(model),
        word_lookups="encoder" if model.encoder_space is not None else "input",
        stages_building=list(m.stages_left),
        build=build_out(model),
    )


def build_out(model: LoadedModel) -> s.BuildOut | None:
    """The full build's stage, for a model served from its first build (None: whole, or not known)."""
    found = artifact.read_build_progress(model.directory) if model.first_build else None
    if found is None:
        return None
    stage, done, total, failed = found
    progress = round(done / max(total, 1), 4)
    return s.BuildOut(stage=stage, done=done, total=total, progress=progress, failed=failed or None)


def find_tokens(model: LoadedModel, request: r.TokensRequest) -> s.TokenPage:
    q, match, script, scheme, language = (
        request.q,
        request.match,
        request.script,
        request.scheme,
        request.language,
    )
    limit, cursor = request.limit, int(request.cursor or 0)
    tried = [q] if q.startswith(WORD_MARK) else [q, WORD_MARK + q]
    if match == "exact":
        found = model.lookup(q)
        ids = np.array([found[0]] if found else [], dtype=np.int64)
        matched = found[1] if found else "none"
    else:
        found_ids = np.concatenate([model.prefix(text) for text in tried])
        _, first = np.unique(found_ids, return_index=True)  # each id once, where it first matched
        ids, matched = found_ids[np.sort(first)], "prefix"
    masks = []
    with at("scheme"):
        model.scheme(scheme)
    if script:
        with at("script"):
            masks.append(model.label_mask(scheme, [script]))
    if language:
        with at("language"):
            masks.append(model.language_mask([language]))
    if masks:
        ids = ids[np.logical_and.reduce(masks)[ids]]
    page = ids[cursor : cursor + limit].tolist()
    more = cursor + limit < len(ids)
    return s.TokenPage(
        query=q,
        match=matched,
        tried=tried,
        items=[token_out(model, i) for i in page],
        next_cursor=str(cursor + limit) if more else None,
    )
