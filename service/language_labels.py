"""A model's language labels (artifact scheme "language") and the checking of ISO 639 codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loaders import artifact
from loaders.artifact import LanguageLabelling
from service.errors import BadRequest

AMBIGUOUS, UNLABELLED = "ambiguous", "unlabelled"


@dataclass(frozen=True)
class LanguageDetail:
    label: str  # language code, "ambiguous" or "unlabelled"
    guess: str | None  # top language of the token's distribution (also for ambiguous tokens)
    share: float | None
    runner_up: str | None
    runner_up_share: float | None
    entropy_bits: float | None


@dataclass(frozen=True)
class LanguageTable:
    info: LanguageLabelling
    guess: np.ndarray  # int16 (vocab, 2), -1 none
    scores: np.ndarray  # float16 (vocab, 3), NaN none
    supported: list[str]  # codes with at least one labelled token, most tokens first

    @classmethod
    def open(cls, directory: Path, info: LanguageLabelling, rows: int, names: list[str]) -> LanguageTable:
        # small (28 bytes a token, rounded): in memory, so that per-token reads are plain indexing
        guess = np.array(artifact.open_array(directory, artifact.LANGUAGE_GUESS, rows))
        scores = np.array(artifact.open_array(directory, artifact.LANGUAGE_SCORES, rows), dtype=np.float64)
        supported = [name for name in names if name not in (AMBIGUOUS, UNLABELLED)]
        return cls(info, guess, scores.round(3), supported)

    def details(self, ids: np.ndarray, labels: list[str]) -> list[LanguageDetail]:
        """The language evidence of each token in `ids` (`labels`: their language labels)."""
        codes = self.info.languages
        out = []
        for label, (top, second), (share, second_share, entropy) in zip(
            labels, self.guess[ids].tolist(), self.scores[ids].tolist(), strict=True
        ):
            if top < 0:
                out.append(LanguageDetail(label, None, None, None, None, None))
            elif second < 0:
                out.append(LanguageDetail(label, codes[top], share, None, None, entropy))
            else:
                out.append(LanguageDetail(label, codes[top], share, codes[second], second_share, entropy))
        return out

    def check_codes(self, codes: list[str], field: str) -> list[str]:
        """Requested codes as the artifact spells them; 400 naming unknown or unsupported ones.

        Any valid tag of a supported language is accepted: 'fra' and 'fr-CA' mean 'fr'; 'sr' and
        'sr-Latn' mean wordfreq's Serbo-Croatian list 'sh'.
        """
        aliases = {base_language(code): code for code in self.supported}
        aliases.update({code: code for code in self.supported})
        out: list[str] = []
        for code in codes:
            wanted = code.strip().casefold()
            base = wanted if wanted in aliases else base_language(wanted)
            if base is None:
                raise BadRequest(
                    field,
                    f"{code!r} is not an ISO 639 language code; supported: {', '.join(self.supported)}",
                    known=self.supported,
                )
            if base not in aliases:
                raise BadRequest(
                    field,
                    f"language {code!r} has no labelled tokens in this model;"
                    f" supported: {', '.join(self.supported)}",
                    known=self.supported,
                )
            out.append(aliases[base])
        return out


def base_language(code: str) -> str | None:
    """The ISO 639 language subtag of a valid language tag ('fra' -> 'fr'), else None."""
    import langcodes

    try:
        if not langcodes.tag_is_valid(code):
            return None
        language = langcodes.Language.get(code).language
    except (ValueError, LookupError):
        return None
    return str(language) if language else None
