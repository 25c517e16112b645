"""Structure of the built Max for Live device: chunks, patcher JSON, objects, patch cords, UI."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

import m4l
from barlight.cli import main
from bridge.protocol.spec import BAND_CENTRES_HZ, DEFAULT_HOST, DEFAULT_PORT, PROTOCOL_VERSION, version_key

DEVICE_HEIGHT_PX = 169  # Live's device strip height

_SCRIPT_TEXT = m4l.SCRIPT_SOURCE.read_text(encoding="utf-8")


def _script_ports(box: dict) -> tuple[int, int]:
    """inlets/outlets as the script declares them (``inlets = N;`` / ``outlets = M;``)."""
    inlets = int(re.search(r"^inlets = (\d+);", _SCRIPT_TEXT, re.M).group(1))
    outlets = int(re.search(r"^outlets = (\d+);", _SCRIPT_TEXT, re.M).group(1))
    return inlets, outlets


def _fixed(inlets: int, outlets: int):
    return lambda box, args: (inlets, outlets)


# Every object the device may use, with its inlet/outlet counts as Max creates it, and where it
# is documented (Max reference, https://docs.cycling74.com/reference/<name>; counts also as saved by
# Max in public devices).
KNOWN_OBJECTS = {
    # MSP and Max for Live signal objects
    "plugin~": (_fixed(2, 2), "reference/plugin~ (Max for Live audio input: left, right)"),
    "plugout~": (_fixed(2, 2), "reference/plugout~ (Max for Live audio output: left, right)"),
    "plugsync~": (_fixed(1, 9), "reference/plugsync~ (9 outlets: running, bar, beat, fraction, meter, "
                                "samples/beat, quarter notes, samples, flags)"),
    "+~": (_fixed(2, 1), "reference/+~"),
    "*~": (_fixed(2, 1), "reference/*~"),
    "average~": (_fixed(1, 1), "reference/average~ (mode argument rms)"),
    "snapshot~": (_fixed(2, 1), "reference/snapshot~ (interval argument in ms)"),
    "peakamp~": (_fixed(2, 1), "reference/peakamp~ (interval argument in ms)"),
    "fffb~": (lambda box, args: (1, int(args[0])), "reference/fffb~ (one outlet per filter; "
                                                   "'index freq' lists retune one filter)"),
    "buffer~": (_fixed(1, 2), "reference/buffer~ (name, size in ms, channels)"),
    "record~": (lambda box, args: (_channels(args) + 2, 1), "reference/record~ (one inlet per channel, then "
                                                            "loop start and end; outlet: the sync ramp 0..1)"),
    # Max control objects
    "pack": (lambda box, args: (max(2, len(args)), 1), "reference/pack (one inlet per argument)"),
    "prepend": (_fixed(1, 1), "reference/prepend"),
    "speedlim": (_fixed(2, 1), "reference/speedlim"),
    "loadbang": (_fixed(1, 1), "reference/loadbang"),
    "udpsend": (_fixed(1, 0), "reference/udpsend (host, port; '/'-messages go out as OSC)"),
    "udpreceive": (_fixed(1, 1), "reference/udpreceive (port message rebinds)"),
    "v8": (lambda box, args: _script_ports(box), "reference/v8 (embedded code; ports from inlets/outlets)"),
    "js": (lambda box, args: _script_ports(box), "reference/js (ports from inlets/outlets)"),
    # Max for Live
    "live.thisdevice": (_fixed(1, 3), "reference/live.thisdevice (bang when the device is ready)"),
    # boxes with their own maxclass
    "message": (_fixed(2, 1), "reference/message"),
    "comment": (_fixed(1, 0), "reference/comment ('set' replaces the text)"),
    "panel": (_fixed(1, 0), "reference/panel ('bgfillcolor' message)"),
    "textedit": (_fixed(1, 4), "reference/textedit"),
    "live.text": (_fixed(1, 2), "reference/live.text"),
    "live.dial": (_fixed(1, 2), "reference/live.dial"),
    "live.numbox": (_fixed(1, 2), "reference/live.numbox"),
}

#: Objects that talk through global names; in a device those names must start with "---".
NAMED_OBJECTS = {"s", "send", "r", "receive", "send~", "receive~", "v", "value", "pv", "forward", "buffer~",
                 "record~", "coll", "dict", "table", "pattrhub"}


def _channels(args: list[str]) -> int:
    """record~'s channel count: its second argument when it is a number, else 1."""
    return int(args[1]) if len(args) > 1 and args[1].isdigit() else 1


def _class_and_args(box: dict) -> tuple[str, list[str]]:
    if box["maxclass"] == "newobj":
        words = box["text"].split()
        return words[0], words[1:]
    return box["maxclass"], []


@pytest.fixture(scope="module")
def device_bytes() -> bytes:
    return m4l.amxd_bytes(m4l.build_patcher())


@pytest.fixture(scope="module")
def patcher(device_bytes: bytes) -> dict:
    return m4l.read_patcher(device_bytes)["patcher"]


@pytest.fixture(scope="module")
def boxes(patcher: dict) -> dict[str, dict]:
    return {entry["box"]["id"]: entry["box"] for entry in patcher["boxes"]}


def _find(boxes: dict[str, dict], name: str) -> list[dict]:
    return [b for b in boxes.values() if _class_and_args(b)[0] == name]


def test_chunks_have_tags_and_sizes_of_an_unfrozen_audio_effect(device_bytes: bytes) -> None:
    assert device_bytes[:4] == b"ampf" and device_bytes[12:16] == b"meta" and device_bytes[24:28] == b"ptch"
    chunks = m4l.read_chunks(device_bytes)
    assert [tag for tag, _ in chunks] == ["ampf", "meta", "ptch"]
    assert chunks[0][1] == b"aaaa"
    assert len(chunks[1][1]) == 4
    ptch = chunks[2][1]
    assert struct.unpack_from("<I", device_bytes, 28)[0] == len(ptch) == len(device_bytes) - 32
    assert ptch.endswith(b"\0") and not ptch.startswith(b"mx@c")


def test_patcher_json_parses_and_opens_in_presentation(patcher: dict) -> None:
    assert patcher["openinpresentation"] == 1
    assert patcher["devicewidth"] > 0


def test_every_box_is_a_known_object_with_its_real_inlets_and_outlets(boxes: dict[str, dict]) -> None:
    for box in boxes.values():
        name, args = _class_and_args(box)
        assert name in KNOWN_OBJECTS, f"{box['id']}: {name!r} is not in the checked object list"
        ports, _doc = KNOWN_OBJECTS[name]
        assert (box["numinlets"], box["numoutlets"]) == ports(box, args), f"{box['id']} {name} {args}"
        assert len(box.get("outlettype", [])) == box["numoutlets"], box["id"]


def test_every_patch_cord_joins_existing_boxes_at_valid_ports(patcher: dict, boxes: dict[str, dict]) -> None:
    assert patcher["lines"], "no patch cords"
    for entry in patcher["lines"]:
        (source, outlet), (destination, inlet) = entry["patchline"]["source"], entry["patchline"]["destination"]
        assert source in boxes and destination in boxes, entry
        assert 0 <= outlet < boxes[source]["numoutlets"], entry
        assert 0 <= inlet < boxes[destination]["numinlets"], entry


def _cords(patcher: dict) -> set[tuple[str, int, str, int]]:
    return {(*e["patchline"]["source"], *e["patchline"]["destination"]) for e in patcher["lines"]}


def test_audio_passes_straight_from_plugin_to_plugout_on_both_channels(patcher: dict, boxes: dict) -> None:
    (plugin,), (plugout,) = _find(boxes, "plugin~"), _find(boxes, "plugout~")
    into_plugout = sorted(c for c in _cords(patcher) if c[2] == plugout["id"])
    assert into_plugout == [(plugin["id"], 0, plugout["id"], 0), (plugin["id"], 1, plugout["id"], 1)]


def test_presentation_fits_the_device_strip(patcher: dict, boxes: dict) -> None:
    shown = [b for b in boxes.values() if b.get("presentation") == 1]
    assert len(shown) >= 10
    for box in shown:
        x, y, width, height = box["presentation_rect"]
        assert x >= 0 and y >= 0 and width > 0 and height > 0, box["id"]
        assert x + width <= patcher["devicewidth"], f"{box['id']} sticks out to the right"
        assert y + height <= DEVICE_HEIGHT_PX, f"{box['id']} sticks out at the bottom"


def test_ui_has_host_port_switch_light_position_and_four_macro_dials(boxes: dict) -> None:
    shown = {b.get("varname"): b for b in boxes.values() if b.get("presentation") == 1}
    assert shown["barlight_host"]["maxclass"] == "textedit" and shown["barlight_host"]["text"] == DEFAULT_HOST
    assert shown["barlight_port"]["maxclass"] == "live.numbox"
    port_param = shown["barlight_port"]["saved_attribute_attributes"]["valueof"]
    assert port_param["parameter_initial"] == [DEFAULT_PORT]
    assert shown["barlight_on"]["maxclass"] == "live.text"
    assert shown["barlight_light"]["maxclass"] == "panel"
    assert shown["barlight_status"]["maxclass"] == "comment"
    assert shown["barlight_position"]["maxclass"] == "comment"
    dials = [shown[f"barlight_macro_{i}"] for i in range(1, 5)]
    assert all(d["maxclass"] == "live.dial" for d in dials)


def test_live_parameters_have_unique_names_and_macros_span_zero_to_one(boxes: dict) -> None:
    params = [b for b in boxes.values() if b.get("parameter_enable") == 1]
    longnames = [b["saved_attribute_attributes"]["valueof"]["parameter_longname"] for b in params]
    assert len(set(longnames)) == len(longnames)
    for box in params:
        value = box["saved_attribute_attributes"]["valueof"]
        assert value["parameter_shortname"] and len(value["parameter_shortname"]) <= 8, value
    macros = sorted((b for b in params if b["maxclass"] == "live.dial"), key=lambda b: b["varname"])
    assert [m["saved_attribute_attributes"]["valueof"]["parameter_longname"] for m in macros] == \
        [f"Visual Macro {i}" for i in range(1, 5)]
    for dial in macros:
        value = dial["saved_attribute_attributes"]["valueof"]
        assert (value["parameter_type"], value["parameter_mmin"], value["parameter_mmax"]) == (0, 0.0, 1.0)
    # host and port are saved with the Live set: the host as a hidden blob parameter
    host = next(b for b in params if b["maxclass"] == "textedit")["saved_attribute_attributes"]["valueof"]
    assert host["parameter_type"] == 3


def test_no_global_names_that_would_collide_between_devices(boxes: dict) -> None:
    for box in boxes.values():
        name, args = _class_and_args(box)
        if name in NAMED_OBJECTS and args:
            assert args[0].startswith("---"), f"{box['id']}: {name} {args[0]} is global across devices"


def test_script_box_embeds_barlight_js_and_every_message_it_gets_has_a_handler(patcher: dict, boxes: dict) -> None:
    (script,) = _find(boxes, "v8")
    assert script["textfile"]["text"] == _SCRIPT_TEXT and script["textfile"]["embed"] == 1
    handlers = set(re.findall(r"^function (\w+)\(", _SCRIPT_TEXT, re.M))
    local = set(re.findall(r"^(\w+)\.local = 1;", _SCRIPT_TEXT, re.M))
    feeding = [boxes[s] for s, _, d, _ in _cords(patcher) if d == script["id"]]
    assert feeding
    for box in feeding:
        name, args = _class_and_args(box)
        if name == "prepend":
            selector = args[0]
        elif name == "message":
            selector = box["text"].split()[0]
        else:
            assert name == "udpreceive", name  # OSC from the renderer: handled by anything()
            continue
        assert selector in handlers - local, f"barlight.js has no public handler for {selector!r}"


def test_outputs_reach_udpsend_udpreceive_and_the_displays(patcher: dict, boxes: dict) -> None:
    (script,) = _find(boxes, "v8")
    (udpsend,), (udpreceive,) = _find(boxes, "udpsend"), _find(boxes, "udpreceive")
    assert _class_and_args(udpsend)[1] == [DEFAULT_HOST, str(DEFAULT_PORT)]
    targets = {outlet: boxes[d].get("varname") or _class_and_args(boxes[d])[0]
               for s, outlet, d, _ in _cords(patcher) if s == script["id"]}
    assert targets == {0: "udpsend", 1: "udpsend", 2: "udpreceive", 3: "barlight_light",
                       4: "barlight_status", 5: "barlight_position", 6: "record~"}
    assert (udpreceive["id"], 0, script["id"], 0) in _cords(patcher)


def test_udpreceive_binds_a_real_port_at_load_that_is_not_the_renderers(boxes: dict) -> None:
    """Public patchers give udpreceive a real port (its argument is obligatory); the script then rebinds it to
    the reply port it announces. Never the renderer's own port: on one machine the two would collide."""
    (udpreceive,) = _find(boxes, "udpreceive")
    (port,) = _class_and_args(udpreceive)[1]
    assert 1024 <= int(port) <= 65535 and int(port) != DEFAULT_PORT


def test_the_mono_mix_loops_into_a_device_local_buffer_the_script_reads(patcher: dict, boxes: dict) -> None:
    """record~ writes the same mono sum the meters hear round a ---named buffer~; its sync ramp reaches the
    script as pcmhead through snapshot~; the script switches record~ (outlet 6) and learns the buffer's name
    from init, which Live rewrites like every other ---name in the device."""
    cords = _cords(patcher)
    (buffer,), (record,), (script,) = _find(boxes, "buffer~"), _find(boxes, "record~"), _find(boxes, "v8")
    name, size_ms, channels = _class_and_args(buffer)[1]
    assert name.startswith("---") and float(size_ms) >= 1000.0 and channels == "1"
    assert _class_and_args(record)[1] == [name, "@loop", "1"]
    (mono,) = [b for b in _find(boxes, "*~") if _class_and_args(b)[1] == ["0.5"]]
    assert (mono["id"], 0, record["id"], 0) in cords
    assert (mono["id"], 0, _find(boxes, "average~")[0]["id"], 0) in cords  # the meters' signal
    (snapshot,) = [boxes[d] for s, o, d, _ in cords if s == record["id"]]
    assert _class_and_args(snapshot)[0] == "snapshot~"
    (prepend,) = [boxes[d] for s, _, d, _ in cords if s == snapshot["id"]]
    assert _class_and_args(prepend) == ("prepend", ["pcmhead"])
    assert (prepend["id"], 0, script["id"], 0) in cords
    assert (script["id"], 6, record["id"], 0) in cords
    (init,) = [b for b in boxes.values() if b["maxclass"] == "message" and b["text"].startswith("init")]
    assert init["text"] == f"init {name}"


#: Live's rules for a parameter of each parameter_type (Max for Live production guidelines; Cycling '74's
#: "Parameters" reference): the attributes a type may carry beyond the common ones.
PARAMETER_TYPES = {
    0: ("float", {"parameter_mmin", "parameter_mmax", "parameter_unitstyle", "parameter_steps",
                  "parameter_exponent", "parameter_units"}),
    1: ("int", {"parameter_mmin", "parameter_mmax", "parameter_unitstyle", "parameter_units"}),
    2: ("enum", {"parameter_enum", "parameter_mmax"}),
    3: ("blob", set()),
}
COMMON_PARAMETER_ATTRIBUTES = {"parameter_longname", "parameter_shortname", "parameter_type", "parameter_initial",
                               "parameter_initial_enable", "parameter_invisible", "parameter_modmode",
                               "parameter_annotation_name", "parameter_info"}
INT_VALUES_MAX = 256  # an Int parameter in Live holds at most 256 values
UNIT_STYLES = range(0, 11)  # Int, Float, Time, Hertz, deciBel, %, Pan, Semitones, MIDI, Custom, Native


def parameter_problems(boxes: dict) -> list[str]:
    """Every way the device's parameters break Live's rules, as readable lines (empty: none)."""
    problems = []
    params = [b for b in boxes.values() if b.get("parameter_enable") == 1]
    names = [b["saved_attribute_attributes"]["valueof"].get("parameter_longname") for b in params]
    problems += [f"long name {n!r} used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for box in params:
        value = box["saved_attribute_attributes"]["valueof"]
        where = f"{box['id']} {value.get('parameter_longname')!r}"
        kind = value.get("parameter_type", 0)
        if kind not in PARAMETER_TYPES:
            problems.append(f"{where}: parameter_type {kind!r}")
            continue
        type_name, allowed = PARAMETER_TYPES[kind]
        problems += [f"{where}: {type_name} parameter with {key}" for key in sorted(set(value) - allowed
                                                                                   - COMMON_PARAMETER_ATTRIBUTES)]
        initial = value.get("parameter_initial", [None])[0]
        if kind in (0, 1):
            low, high = value.get("parameter_mmin", 0), value.get("parameter_mmax", 127 if kind else 1.0)
            if not low < high:
                problems.append(f"{where}: range {low}..{high}")
            if kind == 1 and (high - low + 1 > INT_VALUES_MAX or low != int(low) or high != int(high)):
                problems.append(f"{where}: int range {low}..{high} holds {high - low + 1:g} values, Live keeps 256")
            if value.get("parameter_unitstyle", 0) not in UNIT_STYLES:
                problems.append(f"{where}: unit style {value['parameter_unitstyle']}")
            if initial is not None and not low <= initial <= high:
                problems.append(f"{where}: initial {initial} outside {low}..{high}")
        if kind == 2:
            items = value.get("parameter_enum") or []
            if not items or value.get("parameter_mmax", len(items) - 1) != len(items) - 1:
                problems.append(f"{where}: enum of {len(items)} items, mmax {value.get('parameter_mmax')}")
            if initial is not None and not 0 <= initial < len(items):
                problems.append(f"{where}: initial {initial} not an item")
    return problems


def test_every_parameter_keeps_lives_rules(boxes: dict) -> None:
    assert parameter_problems(boxes) == []


def test_the_rules_catch_the_old_int_port_and_other_breaks(boxes: dict) -> None:
    """The port box as it was (Int, 1..65535) fails, as do a reused long name and a blob with a range."""
    import copy

    broken = copy.deepcopy(boxes)
    port = next(b for b in broken.values() if b.get("varname") == "barlight_port")["saved_attribute_attributes"]
    port["valueof"].update(parameter_type=1, parameter_mmin=1, parameter_mmax=65535, parameter_initial=[9420])
    host = next(b for b in broken.values() if b.get("varname") == "barlight_host")["saved_attribute_attributes"]
    host["valueof"].update(parameter_mmax=3.0)
    dial = next(b for b in broken.values() if b.get("varname") == "barlight_macro_2")["saved_attribute_attributes"]
    dial["valueof"]["parameter_longname"] = "Visual Macro 1"
    problems = parameter_problems(broken)
    assert any("'Barlight Port': int range 1..65535 holds 65535 values" in p for p in problems), problems
    assert any("'Barlight Host': blob parameter with parameter_mmax" in p for p in problems), problems
    assert "long name 'Visual Macro 1' used twice" in problems
    assert len(problems) == 3


def test_the_port_holds_9420_under_lives_rules(boxes: dict) -> None:
    """A Float parameter (Live keeps its value as a 32-bit float: every port is exact) shown as an integer."""
    value = next(b for b in boxes.values() if b.get("varname") == "barlight_port")["saved_attribute_attributes"]
    value = value["valueof"]
    assert (value["parameter_type"], value["parameter_unitstyle"]) == (0, 0)
    assert (value["parameter_mmin"], value["parameter_mmax"], value["parameter_initial"]) == (1.0, 65535.0, [9420.0])
    import numpy as np
    assert float(np.float32(DEFAULT_PORT)) == DEFAULT_PORT and float(np.float32(65535.0)) == 65535.0


def test_top_level_keys_are_those_max_saves_in_an_audio_effect(patcher: dict) -> None:
    """As in public Max for Live audio effects saved by Max 8.5-9: empty minimum versions (Live checks the
    objects themselves), a project whose amxdtype is the device type ('aaaa')."""
    assert patcher["minimum_live_version"] == "" and patcher["minimum_max_version"] == ""
    assert patcher["platform_compatibility"] == 0 and patcher["external_mpe_tuning_enabled"] == 0
    assert patcher["project"]["amxdtype"] == int.from_bytes(m4l.AUDIO_EFFECT, "big") == 1633771873
    assert patcher["project"]["contents"] == {"patchers": {}}


def test_band_filters_are_tuned_to_the_protocol_centres(patcher: dict, boxes: dict) -> None:
    (bank,) = _find(boxes, "fffb~")
    assert int(_class_and_args(bank)[1][0]) == len(BAND_CENTRES_HZ)
    tuning = next(boxes[s] for s, _, d, _ in _cords(patcher) if d == bank["id"] and boxes[s]["maxclass"] == "message")
    pairs = [item.split() for item in tuning["text"].split(",")]
    assert [(int(i), float(f)) for i, f in pairs] == list(enumerate(BAND_CENTRES_HZ))


def test_audio_and_transport_inputs_are_throttled_to_60_hz(boxes: dict) -> None:
    for name in ("snapshot~", "peakamp~", "speedlim"):
        for box in _find(boxes, name):
            assert float(_class_and_args(box)[1][0]) >= 1000.0 / 60.0, box["text"]
    tick_ms = int(re.search(r"^var TICK_MS = (\d+);", _SCRIPT_TEXT, re.M).group(1))
    assert tick_ms >= 1000.0 / 60.0


def test_script_constants_match_the_protocol() -> None:
    constants = dict(re.findall(r'^var (\w+) = "?([^";]+)"?;', _SCRIPT_TEXT, re.M))
    # a version of this table (the Node suite checks it sends every row of that version)
    assert constants["PROTOCOL_VERSION"].split(".")[0] == PROTOCOL_VERSION.split(".")[0]
    assert version_key(constants["PROTOCOL_VERSION"]) <= version_key(PROTOCOL_VERSION)
    assert constants["DEFAULT_HOST"] == DEFAULT_HOST
    assert int(constants["DEFAULT_PORT"]) == DEFAULT_PORT


def test_script_is_es5_so_the_classic_js_object_can_run_it() -> None:
    code = re.sub(r"//[^\n]*|\"(?:\\.|[^\"\\])*\"", "", _SCRIPT_TEXT)  # drop comments and strings
    for construct in (r"\blet\s", r"\bconst\s", r"=>", r"`", r"\bclass\s", r"\.\.\.", r"\bof\b"):
        assert not re.search(construct, code), f"ES2015+ syntax {construct!r} in barlight.js"


def test_committed_device_equals_a_fresh_build(device_bytes: bytes) -> None:
    assert m4l.BUILT_DEVICE.read_bytes() == device_bytes, "run: barlight m4l build --out m4l/Barlight.amxd"


def test_build_command_writes_the_device_and_rejects_bad_names(tmp_path: Path, device_bytes: bytes,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "Barlight.amxd"
    assert main(["m4l", "build", "--out", str(out)]) == 0
    assert out.read_bytes() == device_bytes
    assert main(["m4l", "build", "--out", str(tmp_path / "device.txt")]) == 2
    assert "must end in .amxd" in capsys.readouterr().err
    assert not (tmp_path / "device.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["Barlight.amxd"], "no temporary files left"
    missing = tmp_path / "User Library" / "Presets"
    assert main(["m4l", "build", "--out", str(missing / "Barlight.amxd")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"barlight m4l: error: {missing}: no such folder: create it first (e.g. mkdir -p), or pick another --out"


def test_external_js_build_references_the_script_and_writes_it_alongside(tmp_path: Path) -> None:
    assert main(["m4l", "build", "--out", str(tmp_path / "Barlight.amxd"), "--external-js"]) == 0
    patcher = m4l.read_patcher((tmp_path / "Barlight.amxd").read_bytes())["patcher"]
    script = next(e["box"] for e in patcher["boxes"] if e["box"].get("varname") == m4l.SCRIPT_VARNAME)
    # as Max saves a js box that loads a file: no embedded text, the file name in saved_object_attributes
    assert script["text"] == "js barlight.js" and "textfile" not in script and "filename" not in script
    assert script["saved_object_attributes"] == {"filename": "barlight.js", "parameter_enable": 0}
    assert (tmp_path / "barlight.js").read_text(encoding="utf-8") == _SCRIPT_TEXT


def test_truncated_device_is_reported_with_the_chunk(device_bytes: bytes) -> None:
    with pytest.raises(m4l.InputError, match="'ptch'.*file ends first"):
        m4l.read_chunks(device_bytes[:-10], "Barlight.amxd")
