"""A model's language labels (artifact scheme "language") and the checking of ISO 639 codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import langcodes
import numpy as np

from loaders import artifact
from loaders.artifact import AMBIGUOUS, UNLABELLED, LanguageLabelling
from service.errors import UnknownLanguage
from service.response_types import LanguageDetail


@dataclass(frozen=True)
class LanguageTable:
    info: LanguageLabelling
    guess: np.ndarray  # int16 (vocab, 2), -1 none
    scores: np.ndarray  # float64 (vocab, 3) rounded to 3 places, NaN none
    supported: list[str]  # codes with at least one labelled token, most tokens first
    aliases: dict[str, str]  # accepted code (and its ISO 639 base language) -> supported code
    no_evidence: dict[str, LanguageDetail]  # label -> the detail of a token in no word list

    @classmethod
    def open(cls, directory: Path, info: LanguageLabelling, rows: int, names: list[str]) -> LanguageTable:
        guess = artifact.open_array(directory, artifact.LANGUAGE_GUESS, rows)
        scores = artifact.open_array(directory, artifact.LANGUAGE_SCORES, rows)
        return cls.from_arrays(info, guess, scores, names)

    @classmethod
    def from_arrays(
        cls, info: LanguageLabelling, guess: np.ndarray, scores: np.ndarray, names: list[str]
    ) -> LanguageTable:
        """`names`: the language scheme's labels. The arrays are small (5 bytes a token): copied into
        memory, scores rounded once, so that per-token reads are plain indexing."""
        supported = [name for name in names if name not in (AMBIGUOUS, UNLABELLED)]
        aliases = {base: code for code in supported if (base := base_language(code)) is not None}
        aliases.update({code: code for code in supported})
        rounded = np.array(scores, dtype=np.float64).round(3)
        no_evidence = {name: LanguageDetail(name, None, None, None, None, None) for name in names}
        return cls(info, np.array(guess), rounded, supported, aliases, no_evidence)

    def details(self, ids: np.ndarray, labels: list[str]) -> list[LanguageDetail]:
        """The language evidence of each token in `ids` (`labels`: their language labels)."""
        codes = self.info.languages
        out = []
        for label, (top, second), (share, second_share, entropy) in zip(
            labels, self.guess[ids].tolist(), self.scores[ids].tolist(), strict=True
        ):
            if top < 0:  # most tokens: one shared value per label
                out.append(self.no_evidence[label])
            elif second < 0:
                out.append(LanguageDetail(label, codes[top], share, None, None, entropy))
            else:
                out.append(LanguageDetail(label, codes[top], share, codes[second], second_share, entropy))
        return out

    def check_codes(self, codes: list[str]) -> list[str]:
        """Requested codes as the artifact spells them; 400 naming unknown or unsupported ones.

        Any valid tag of a supported language is accepted: 'fra' and 'fr-CA' mean 'fr'; 'sr' and
        'sr-Latn' mean wordfreq's Serbo-Croatian list 'sh'.
        """
        aliases = self.aliases
        out: list[str] = []
        for code in codes:
            wanted = code.strip().casefold()
            base = wanted if wanted in aliases else base_language(wanted)
            if base is None:
                raise UnknownLanguage(
                    f"{code!r} is not an ISO 639 language code; supported: {', '.join(self.supported)}",
                    known=self.supported,
                )
            if base not in aliases:
                raise UnknownLanguage(
                    f"language {code!r} has no labelled tokens in this model;"
                    f" supported: {', '.join(self.supported)}",
                    known=self.supported,
                )
            out.append(aliases[base])
        return out


def base_language(code: str) -> str | None:
    """The ISO 639 language subtag of a valid language tag ('fra' -> 'fr'), else None."""
    try:
        if not langcodes.tag_is_valid(code):
            return None
        language = langcodes.Language.get(code).language
    except (ValueError, LookupError):
        return None
    return str(language) if language else None
