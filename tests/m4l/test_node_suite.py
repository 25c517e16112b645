"""Runs the device's Node tests (tests/m4l/*.test.js) so the one pytest command covers them, and checks
every OSC message they make the real m4l/barlight.js send against the protocol table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pythonosc.parsing import osc_types

from bridge.protocol.decode import decode
from bridge.protocol.spec import SENDER_TO_RENDERER, SPECS, Field, MessageSpec, version_key

HERE = Path(__file__).resolve().parent


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the Max for Live device tests (install it, e.g. apt install nodejs)")
    return node


@dataclass(frozen=True)
class NodeRun:
    result: subprocess.CompletedProcess[str]
    sent: list[dict[str, str]]  #: every OSC message the device sent: {address, datagram (hex)}


@pytest.fixture(scope="module")
def node_run(tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    files = sorted(str(p) for p in HERE.glob("*.test.js"))
    assert files, "no Node test files found"
    log = tmp_path_factory.mktemp("m4l") / "sent.jsonl"
    command = [node_executable(), "--test", "--test-reporter=tap", *files]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "BARLIGHT_OSC_LOG": str(log)})
    sent = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return NodeRun(result, sent)


def test_device_javascript_under_the_max_standin(node_run: NodeRun) -> None:
    result = node_run.result
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout and "# pass " in result.stdout, result.stdout


def _listed_tags(fields: tuple[Field, ...]) -> str:
    return "".join(argument.type.tag for field in fields for argument in field.arguments)


def _tags_the_row_allows(spec: MessageSpec, count: int) -> str | None:
    """The row's listed type tags for ``count`` arguments (Max writes only i, f, s), None if no arity fits."""
    if spec.repeat is not None:
        groups, rest = divmod(count, len(spec.arguments))
        return None if rest else _listed_tags(spec.fields) * groups
    for present in range(len(spec.optional) + 1):
        tags = _listed_tags(spec.fields + spec.optional[:present])
        if len(tags) == count:
            return tags
    return None


def test_every_message_the_device_sends_matches_its_row_of_the_table(node_run: NodeRun) -> None:
    """Addresses, argument counts and type tags the JS sends (as udpsend writes them) are the table's,
    with no extra trailing arguments; every sender -> renderer row of the version its hello announces
    is sent at least once."""
    assert node_run.sent, "the Node tests made the device send nothing"
    for entry in node_run.sent:
        datagram = bytes.fromhex(entry["datagram"])
        spec = SPECS.get(entry["address"])
        assert spec is not None and spec.direction == SENDER_TO_RENDERER, f"{entry['address']} is not in the table"
        sent_tags = _osc_tags(datagram)
        assert sent_tags == _tags_the_row_allows(spec, len(sent_tags)), f"{spec.address} sent ,{sent_tags}"
        assert decode(datagram).ADDRESS == spec.address
    hello = next(decode(bytes.fromhex(e["datagram"])) for e in node_run.sent if e["address"] == "/daw/hello")
    rows = {spec.address for spec in SPECS.values()
            if spec.direction == SENDER_TO_RENDERER and version_key(spec.since) <= version_key(hello.version)}
    assert {entry["address"] for entry in node_run.sent} >= rows


def _osc_tags(datagram: bytes) -> str:
    """The type tags of one OSC message, without the comma."""
    _, index = osc_types.get_string(datagram, 0)
    return osc_types.get_string(datagram, index)[0][1:]
