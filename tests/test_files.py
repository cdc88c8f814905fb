"""helpers.files: writes through a temporary file and a rename, and SHA-256 of a file."""
import hashlib
import json

import pytest

from helpers import files


def test_write_text_and_json_replace_the_file_and_leave_nothing_else(tmp_path):
    path = tmp_path / "sub" / "record.json"
    files.write_text_atomic(path, "old")
    assert files.write_json_atomic(path, {"a": [1, 2]}) == path
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "record.json"
    files.write_text_atomic(path, "old")
    with pytest.raises(TypeError):
        files.write_json_atomic(path, {"not json": object()})
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_replacing_keeps_the_suffix_for_writers_that_need_it(tmp_path):
    with files.replacing(tmp_path / "model.keras") as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == tmp_path and tmp.name.startswith(".")
        tmp.write_bytes(b"x")
    assert (tmp_path / "model.keras").read_bytes() == b"x" and not tmp.exists()


def test_sha256_matches_hashlib_across_chunks(tmp_path):
    data = bytes(range(256)) * ((files.CHUNK // 256) * 2 + 7)  # more than two chunks
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert files.sha256_file(path) == files.sha256_file(path, progress=True) == hashlib.sha256(data).hexdigest()
