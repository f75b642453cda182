"""Word lookups answer in the best space the model has: the input space first, the encoder space as
soon as it lands beside the artifact (built behind serving), without a restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from litestar.testing import TestClient

from loaders.build.encoder_rows import build_encoder_space
from service.app import create_app
from service.settings import Settings
from tests.conftest import USE, linked

LOOKUP = f"/v1/models/{USE}/translations?text=and&target_languages=ru&pool=words&k=3"


def test_word_lookups_switch_to_the_encoder_space_when_it_lands(
    packaged: dict[str, Path], tmp_path: Path
) -> None:
    copy = linked(packaged[USE], tmp_path / USE)
    with TestClient(create_app(Settings(artifacts=(copy,), encoder_poll_seconds=0.1))) as client:
        before = client.get(LOOKUP)
        assert before.status_code == 200 and before.json()["space"] == "input"
        assert client.get(f"/v1/models/{USE}").json()["word_lookups"] == "input"
        build = threading.Thread(target=build_encoder_space, args=(copy, 40))
        build.start()
        during = []
        while build.is_alive():  # requests keep their answers while the space is built
            during.append(client.get(LOOKUP).json()["space"])
            time.sleep(0.05)
        build.join()
        assert during and set(during) <= {"input"}
        deadline = time.monotonic() + 10
        while client.get(f"/v1/models/{USE}").json()["word_lookups"] != "encoder":
            assert time.monotonic() < deadline, "the encoder space was not picked up"
            time.sleep(0.1)
        after = client.get(LOOKUP)
        assert after.json()["space"] == "encoder" and after.headers["etag"] != before.headers["etag"]
        assert after.json()["candidates"][0]["token"] == "и"  # among the 40 words a language encoded here
        asked = client.get(LOOKUP + "&space=input")  # the paper's geometry, asked for, still answers
        assert asked.json()["space"] == "input"
