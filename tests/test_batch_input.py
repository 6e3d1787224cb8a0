"""`aura-browser batch` on hostile input files: lines that must become error records, ids that must be refused,
and output that must stay strict JSON, across `--resume` too."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.replies import answer


def batch(gateless_site, *args: str, profile_dir: Path):
    return run_cli("batch", *args, "--base-url", gateless_site.url, env={"AURA_PROFILE_DIR": str(profile_dir)})


def strict_records(path: Path) -> list[dict]:
    """Every output line, parsed as strict JSON (no NaN or Infinity)."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return [json.loads(line, parse_constant=refuse) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_lone_surrogate_model_is_an_error_record_and_the_run_and_its_resume_go_on(gateless_site, profile_dir,
                                                                                   tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "Hi", "model": "\\udfff"}\n{"id": 2, "prompt": "Hello"}\n')
    out = tmp_path / "out.jsonl"

    result = batch(gateless_site, str(source), "-o", str(out), profile_dir=profile_dir)
    assert result.returncode == 8, result.stderr.decode()
    got = {r["id"]: r for r in strict_records(out)}
    assert "the model is not valid UTF-8 text" in got[1]["error"] and got[2]["error"] is None
    assert "internal error" not in result.stderr.decode()

    again = batch(gateless_site, str(source), "-o", str(out), "--resume", profile_dir=profile_dir)
    assert again.returncode == 0, again.stderr.decode()
    assert len(strict_records(out)) == 2


def test_duplicate_ids_are_refused_before_anything_is_asked(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "a"}\n{"id": "x", "prompt": "b"}\n{"id": 1, "prompt": "c"}\n')
    result = batch(gateless_site, str(source), "-o", str(tmp_path / "out.jsonl"), profile_dir=profile_dir)
    assert_one_line_error(result, 2, "duplicate ids: 1 on lines 1, 3", "--allow-duplicate-ids")
    assert gateless_site.stats.chat_requests == 0 and not (tmp_path / "out.jsonl").exists()


def test_allowed_duplicate_ids_are_each_asked_once_across_resume(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 1, "prompt": "c"}\n')
    out = tmp_path / "out.jsonl"
    earlier = {"id": 1, "text": "earlier", "transport": "direct", "error": None, "ttfb_ms": 1, "elapsed_ms": 2}
    out.write_text(json.dumps(earlier) + "\n")  # a run that stopped after the first line

    result = batch(gateless_site, str(source), "-o", str(out), "--resume", "--allow-duplicate-ids",
                   profile_dir=profile_dir)
    assert result.returncode == 0, result.stderr.decode()
    assert "warning: duplicate ids: 1 on lines 1, 3" in result.stderr.decode()
    got = strict_records(out)
    assert sorted(r["id"] for r in got) == [1, 1, 2] and gateless_site.stats.chat_requests == 2  # 2, and the second 1
    assert [r["text"] for r in got if r["id"] == 1][1] == answer("c")


def test_lines_without_a_usable_id_get_one_error_record_not_one_per_resume(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        '{"id": null, "prompt": "no id"}',
        '{"id": NaN, "prompt": "a"}',
        '{"id": 1e999, "prompt": "b"}',
        '{"id": -Infinity, "prompt": "c"}',
        '{"id": [1, Infinity], "prompt": "d"}',
        '{"id": "\\udfff", "prompt": "e"}',
        '{"id": 7, "prompt": "fine"}',
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    result = batch(gateless_site, str(source), "-o", str(out), profile_dir=profile_dir)
    assert result.returncode == 8, result.stderr.decode()
    got = strict_records(out)
    assert len(got) == 7 and gateless_site.stats.chat_requests == 1
    refused = sorted(r["error"] for r in got if r["id"] is None)
    assert refused[0] == "line 1: no 'id'"
    assert [error.split(":")[0] for error in refused[1:]] == [f"line {n}" for n in range(2, 7)]
    assert all("'id' must be valid JSON: finite numbers" in error for error in refused[1:])

    for _ in range(2):
        again = batch(gateless_site, str(source), "-o", str(out), "--resume", profile_dir=profile_dir)
        assert again.returncode == 0, again.stderr.decode()
        assert "7 already in" in again.stderr.decode()
    assert len(strict_records(out)) == 7 and gateless_site.stats.chat_requests == 1


def test_a_byte_order_mark_before_line_1_is_skipped(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'\xef\xbb\xbf{"id": 1, "prompt": "Hi"}\n{"id": 2, "prompt": "Ho"}\n')
    result = batch(gateless_site, str(source), "-o", str(tmp_path / "out.jsonl"), profile_dir=profile_dir)
    assert result.returncode == 0, result.stderr.decode()
    assert {r["id"]: r["text"] for r in strict_records(tmp_path / "out.jsonl")} == {1: answer("Hi"), 2: answer("Ho")}


def test_a_number_too_long_for_python_is_an_error_record_and_the_run_goes_on(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "Hi", "max_tokens": ' + "9" * 5000 + '}\n{"id": 2, "prompt": "Hello"}\n')
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": ' + "7" * 5000 + ', "text": "from a run before"}\n')  # --resume reads it too

    result = batch(gateless_site, str(source), "-o", str(out), "--resume", profile_dir=profile_dir)
    assert result.returncode == 8, result.stderr.decode()
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert records[0] == {**records[0], "id": None, "error": "line 1: a number longer than 4300 digits"}
    assert records[1]["id"] == 2 and records[1]["error"] is None
    assert "internal error" not in result.stderr.decode() and "Traceback" not in result.stderr.decode()


def test_out_that_is_the_input_file_is_refused_before_anything_is_written(gateless_site, profile_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    prompts = '{"id": 1, "prompt": "Hi"}\n'
    source.write_text(prompts)
    (tmp_path / "link.jsonl").symlink_to(source)
    (tmp_path / "hard.jsonl").hardlink_to(source)
    for out, extra in (("in.jsonl", ()), ("link.jsonl", ()), ("hard.jsonl", ()), ("in.jsonl", ("--resume",))):
        result = batch(gateless_site, str(source), "-o", str(tmp_path / out), *extra, profile_dir=profile_dir)
        assert_one_line_error(result, 2, "is the input file", "would overwrite the prompts")
        assert source.read_text() == prompts
    with source.open("rb") as stdin:  # `batch - -o in.jsonl < in.jsonl`
        result = subprocess.run([sys.executable, "-m", "aura_browser", "batch", "-", "-o", str(source), "--base-url",
                                 gateless_site.url], stdin=stdin, capture_output=True, timeout=60,
                                env={**os.environ, "AURA_PROFILE_DIR": str(profile_dir)})
    assert_one_line_error(result, 2, "is the input file")
    assert source.read_text() == prompts and gateless_site.stats.chat_requests == 0
