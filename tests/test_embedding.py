"""The embedding backends: the onnx-int8 export is built once per cache folder (offline, from the packaged
model), gives the torch model's vectors within int8 rounding, is reused by later embedders, and is rebuilt
when its folder is half-written or damaged; a bad backend name is a clear configuration error."""

import logging
import shutil
import threading

import numpy as np
import pytest

from rag.config import load_settings
from rag.embedding import Embedder, available_cores, resolve_model_path, session_options
from rag.errors import ConfigError
from rag.onnx_model import META_FILE, MODEL_FILE, export_dir

TEXTS = [
    "Who did Pak Myong Ho meet in Ulaanbaatar?",
    "The central bank raised its main interest rate by half a point on Tuesday, citing rising inflation.",
    "x",
    "  Leading and trailing white space  ",
    # over 256 word pieces: both backends must cut it at the model's max_seq_length
    "Grain exports from the port fell sharply in March as the strike went on and buyers turned elsewhere. " * 20,
]


class BuildLog(logging.Handler):
    """The onnx export's log lines (caplog is per test; the build is shared by the module)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def builds(self) -> list[str]:
        return [line for line in self.lines if line.startswith("building the onnx-int8")]


def _watch_builds():
    handler, logger = BuildLog(), logging.getLogger("rag.onnx_model")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler, logger


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(backend="torch")


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """Two embedders started at once on an empty cache folder: (cache folder, their embedders, the log)."""
    cache = tmp_path_factory.mktemp("model-cache")
    handler, logger = _watch_builds()
    embedders, errors = [], []

    def start():
        try:
            embedders.append(Embedder(backend="onnx-int8", cache_dir=cache))
        except Exception as exc:  # pragma: no cover - reported by the test
            errors.append(exc)

    try:
        starters = [threading.Thread(target=start) for _ in range(2)]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
    finally:
        logger.removeHandler(handler)
    assert not errors, errors
    return cache, embedders, handler


def test_two_embedders_starting_at_once_build_the_export_once(first_build):
    cache, embedders, log = first_build
    assert len(embedders) == 2
    assert len(log.builds()) == 1, log.lines
    assert any(line.startswith("built the onnx-int8 embedding model in") for line in log.lines)
    assert [p.name for p in cache.iterdir() if p.is_dir()] == [export_dir(resolve_model_path(
        "packaged:all-MiniLM-L6-v2"), cache).name], "no temporary or half folder is left behind"


def test_onnx_vectors_match_the_torch_model(first_build, torch_embedder):
    onnx = first_build[1][0]
    assert onnx.dimension == torch_embedder.dimension == 384
    vectors, expected = onnx.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(vectors * expected, axis=1)
    assert cosines.min() >= 0.98, cosines


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(first_build):
    onnx = first_build[1][0]
    together = onnx.embed(TEXTS, batch_size=4)
    alone = np.stack([onnx.embed([text])[0] for text in TEXTS])
    assert np.array_equal(together, alone)
    assert np.array_equal(onnx.embed_query(TEXTS[0]), together[0])


PASSAGE = ("Grain exports fell\nThe port was closed for a week. Its workers struck over pay. "
           "Buyers turned to other ports, traders said.")


def _spans(text: str) -> list[tuple[int, int]]:
    first = text.index("The port")
    return [(first, text.index(" Its")), (text.index("Its"), text.index(" Buyers")), (text.index("Buyers"), len(text))]


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_sentences_are_pooled_from_their_passage_pass(backend, first_build, torch_embedder):
    embedder = first_build[1][0] if backend == "onnx" else torch_embedder
    vectors, (pooled,) = embedder.embed_with_spans([PASSAGE], [_spans(PASSAGE)])
    assert np.allclose(vectors[0], embedder.embed([PASSAGE])[0], atol=1e-5), "the passage's own vector"
    assert pooled.shape == (3, 384) and pooled.dtype == np.float32
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-4)
    alone = embedder.embed([PASSAGE[a:b] for a, b in _spans(PASSAGE)])
    cosines = np.sum(pooled * alone, axis=1)
    # read in context, a sentence is near its vector alone but not equal to it
    assert (cosines > 0.5).all() and (cosines < 0.99).all(), cosines
    question = embedder.embed_query("Why did the port workers strike?")
    assert int(np.argmax(pooled @ question)) == 1


def test_pooled_sentences_agree_across_backends(first_build, torch_embedder):
    onnx = first_build[1][0]
    _, (a,) = onnx.embed_with_spans([PASSAGE], [_spans(PASSAGE)])
    _, (b,) = torch_embedder.embed_with_spans([PASSAGE], [_spans(PASSAGE)])
    assert np.sum(a * b, axis=1).min() >= 0.97


def test_a_sentence_past_the_models_word_piece_limit_is_embedded_alone(first_build):
    onnx = first_build[1][0]
    long = TEXTS[-1] + "The last sentence is never read with the rest."
    spans = [(0, TEXTS[-1].index(" Grain", 10)), (len(TEXTS[-1]), len(long))]
    _, (pooled,) = onnx.embed_with_spans([long], [spans])
    assert np.array_equal(pooled[1], onnx.embed([long[spans[1][0]:]])[0])
    assert not np.allclose(pooled[0], onnx.embed([long[:spans[0][1]]])[0], atol=1e-3), "the first one was pooled"


def test_a_later_embedder_loads_the_cached_export_without_rebuilding(first_build):
    cache, embedders, _ = first_build
    folder = export_dir(resolve_model_path("packaged:all-MiniLM-L6-v2"), cache)
    before = (folder / MODEL_FILE).stat().st_mtime_ns
    handler, logger = _watch_builds()
    try:
        again = Embedder(backend="onnx-int8", cache_dir=cache)
    finally:
        logger.removeHandler(handler)
    assert not handler.builds() and (folder / MODEL_FILE).stat().st_mtime_ns == before
    assert np.array_equal(again.embed(TEXTS[:2]), embedders[0].embed(TEXTS[:2]))


@pytest.mark.parametrize("damage", ["truncated model", "half-written folder"])
def test_a_damaged_or_half_written_export_is_rebuilt(first_build, tmp_path, damage):
    cache, embedders, _ = first_build
    source = export_dir(resolve_model_path("packaged:all-MiniLM-L6-v2"), cache)
    copy = tmp_path / "cache"
    shutil.copytree(source, copy / source.name)
    if damage == "truncated model":
        model = copy / source.name / MODEL_FILE
        model.write_bytes(model.read_bytes()[:1000])
    else:
        (copy / source.name / META_FILE).unlink()
    killed_build = copy / f".{source.name}.building-killed"
    killed_build.mkdir()
    handler, logger = _watch_builds()
    try:
        rebuilt = Embedder(backend="onnx-int8", cache_dir=copy)
    finally:
        logger.removeHandler(handler)
    assert len(handler.builds()) == 1
    assert any("incomplete or damaged" in line for line in handler.lines)
    assert not killed_build.exists() and len([p for p in copy.iterdir() if p.is_dir()]) == 1
    assert np.array_equal(rebuilt.embed(TEXTS[:2]), embedders[0].embed(TEXTS[:2]))


def test_a_bad_backend_name_is_a_configuration_error():
    with pytest.raises(ConfigError, match="embedding_backend must be one of: 'onnx-int8', 'torch'"):
        load_settings(env={"RAG_EMBEDDING_BACKEND": "onnx-fp16"})
    with pytest.raises(ConfigError, match="unknown embedding backend 'tensorflow'"):
        Embedder(backend="tensorflow")


def test_onnx_needs_a_model_folder(tmp_path):
    with pytest.raises(ConfigError, match="needs a model folder on disk"):
        Embedder("sentence-transformers/all-MiniLM-L6-v2", backend="onnx-int8", cache_dir=tmp_path)


def test_threads_default_to_the_cores_and_idle_threads_do_not_spin(first_build):
    assert first_build[1][0].threads == available_cores()
    options = session_options(2)
    assert options.intra_op_num_threads == 2 and options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_cache_folder_follows_xdg_unless_set(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert load_settings(env={}).model_cache_path == tmp_path / "xdg" / "newsrag"
    assert load_settings(env={"RAG_MODEL_CACHE_DIR": str(tmp_path / "mine")}).model_cache_path == tmp_path / "mine"


def test_an_unwritable_cache_folder_is_a_configuration_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(ConfigError, match="set model_cache_dir to a writable folder"):
        Embedder(backend="onnx-int8", cache_dir=blocked / "cache")
