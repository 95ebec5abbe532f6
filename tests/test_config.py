"""Settings: defaults, TOML file, environment, validation, and the README table that documents them."""

from pathlib import Path

import pytest

from cli.main import settings_table
from rag.config import Settings, load_settings, setting_help
from rag.errors import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_file_environment_and_overrides_in_that_order(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text('top_k = 7\nport = 9000\n')
    assert load_settings(env={}).top_k == Settings().top_k
    assert load_settings(config, env={}).top_k == 7
    env = {"RAG_TOP_K": "3", "RAG_CHROMA_SSL": "yes"}
    settings = load_settings(config, env=env)
    assert (settings.top_k, settings.port, settings.chroma_ssl) == (3, 9000, True)
    assert load_settings(config, env=env, top_k=2).top_k == 2
    assert load_settings(env={"RAG_CONFIG": str(config)}).port == 9000


def test_rag_table_in_toml_is_read(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text('[rag]\ncollection = "other"\n')
    assert load_settings(config, env={}).collection == "other"


@pytest.mark.parametrize("env, message", [
    ({"RAG_TOP_K": "many"}, "top_k"),
    ({"RAG_TOP_K": "0"}, "positive"),
    ({"RAG_CHROMA_SSL": "maybe"}, "true/false"),
    ({"RAG_COLLECTION": "ab"}, "3 characters"),
    ({"RAG_TOP_K": "50"}, "max_top_k"),
    ({"RAG_HEAP_TRIM_EVERY": "-1"}, "heap_trim_every"),
    ({"RAG_DENSE_SEARCH_EF": "0"}, "dense_search_ef"),
    ({"RAG_EMBEDDING_BACKEND": "onnx"}, "embedding_backend must be one of: 'onnx-int8', 'torch'"),
    ({"RAG_EMBEDDING_THREADS": "-1"}, "embedding_threads"),
])
def test_bad_values_are_refused_with_the_setting_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_keys_and_missing_or_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(env={}, colour="red")
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("top_k = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, env={})


def test_every_setting_has_help_and_the_readme_table_is_current():
    assert all(help_text.strip() for _, _, help_text in setting_help())
    readme = README.read_text()
    table = readme.split("<!-- settings:start -->\n", 1)[1].split("<!-- settings:end -->", 1)[0].strip()
    assert table == settings_table(), "README settings table is stale: paste the output of `newsrag settings`"
