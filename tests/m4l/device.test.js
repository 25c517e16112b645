// Scripted Live states in, protocol v1 messages out: m4l/barlight.js under the Max stand-in.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice, ManualClock, ScriptedLive } = require("./max_standin.js");

function values(message) {
    return message.atoms.map((a) => a.value);
}

function assertClose(actual, expected, what) {
    assert.ok(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)),
        `${what}: expected ${expected}, got ${actual}`);
}

// A transport message as an object. (tests/m4l/test_node_suite.py checks every message these tests make the
// device send against the protocol table in bridge/protocol/spec.py: addresses, argument counts and types.)
function transportOf(message) {
    assert.equal(message.address, "/daw/transport");
    const [playing, beat, bpm, numerator, denominator, barStartBeat, bar] = values(message);
    return { playing, beat, bpm, numerator, denominator, barStartBeat, bar };
}

function assertTransport(message, expected) {
    const actual = transportOf(message);
    for (const key of Object.keys(expected)) {
        if (["beat", "bpm", "barStartBeat"].includes(key)) {
            assertClose(actual[key], expected[key], key);
        } else {
            assert.equal(actual[key], expected[key], key);
        }
    }
}

// Start a device on a scripted Live set and return it with a cursor over its OSC output.
function startDevice(setup = () => {}, ui = {}) {
    const clock = new ManualClock(1000);
    const live = new ScriptedLive();
    setup(live);
    const device = loadDevice({ clock, live, ui });
    device.send("init");
    let seen = 0;
    device.newMessages = () => {
        const all = device.osc();
        const fresh = all.slice(seen);
        seen = all.length;
        return fresh;
    };
    device.addresses = (messages) => messages.map((m) => m.address);
    return device;
}

test("on start it says hello and dumps its state", () => {
    const device = startDevice((live) => {
        live.setSong("tempo", 128);
        live.setSong("loop", 1);
        live.setSong("loop_start", 8);
        live.setSong("loop_length", 8);
        live.addCue("Drop", 32);
    });
    const messages = device.newMessages();
    assert.deepEqual(device.addresses(messages),
        ["/daw/hello", "/daw/markers", "/daw/loop", "/daw/macros", "/daw/transport"]);
    const [source, version, sessionId, replyPort] = values(messages[0]);
    assert.equal(source, "m4l");
    assert.equal(version, "1.1");
    assert.match(sessionId, /^m4l-[0-9a-f]{8}$/);
    assert.ok(replyPort >= 49152 && replyPort <= 65535, `reply port ${replyPort}`);
    assert.deepEqual(values(messages[1]), ["Drop", 32]);
    assert.deepEqual(values(messages[2]), [1, 8, 16]);
    assert.deepEqual(values(messages[3]), [0, 0, 0, 0]);
    assertTransport(messages[4], { playing: 0, beat: 0, bpm: 128, numerator: 4, denominator: 4, barStartBeat: 0, bar: 1 });
    // udpreceive listens on the reply port; udpsend gets the default destination.
    const config = device.outputs.filter((m) => m.outlet === 1 || m.outlet === 2)
        .map((m) => [m.outlet, m.selector].concat(m.args));
    assert.deepEqual(config, [[2, "port", replyPort], [1, "host", "127.0.0.1"], [1, "port", 9420]]);
});

test("stopped: transport at 4 Hz and hello every 2 s", () => {
    const device = startDevice();
    device.newMessages();
    device.clock.advance(1000);
    assert.deepEqual(device.addresses(device.newMessages()), Array(4).fill("/daw/transport"));
    device.clock.advance(1000);
    const messages = device.newMessages();
    assert.deepEqual(device.addresses(messages),
        ["/daw/transport", "/daw/transport", "/daw/transport",
            "/daw/hello", "/daw/markers", "/daw/loop", "/daw/macros", "/daw/transport"]);
});

test("play sends at once, then 50 Hz with the playhead advancing at the tempo", () => {
    const device = startDevice();
    device.newMessages();
    device.clock.advance(10);
    device.live.setSong("is_playing", 1);
    const [started] = device.newMessages();
    assertTransport(started, { playing: 1, beat: 0, bpm: 120, bar: 1 });
    device.clock.advance(200);
    const running = device.newMessages();
    assert.equal(running.length, 10);
    running.forEach((message) => {
        const elapsedMs = message.atMs - started.atMs;
        assertTransport(message, { playing: 1, beat: elapsedMs / 500, bpm: 120, bar: 1, barStartBeat: 0 });
    });
});

test("stop sends at once and freezes the playhead", () => {
    const device = startDevice();
    device.live.setSong("is_playing", 1);
    device.clock.advance(2500);   // 5 beats at 120 BPM: bar 2, beat 2
    device.newMessages();
    device.live.setSong("is_playing", 0);
    const [stopped] = device.newMessages();
    assertTransport(stopped, { playing: 0, beat: 5, bar: 2, barStartBeat: 4 });
    device.clock.advance(500);
    device.newMessages().forEach((m) => assertTransport(m, { playing: 0, beat: 5 }));
});

test("a seek sends at once, stopped or playing", () => {
    const device = startDevice();
    device.newMessages();
    device.live.setSong("current_song_time", 32);
    let [moved] = device.newMessages();
    assertTransport(moved, { playing: 0, beat: 32, bar: 9, barStartBeat: 32 });

    device.live.setSong("is_playing", 1);
    device.clock.advance(100);
    device.newMessages();
    device.live.setSong("current_song_time", 64.0);
    [moved] = device.newMessages();
    assertTransport(moved, { playing: 1, beat: 64, bar: 17, barStartBeat: 64 });
    // small observer jitter is no seek
    device.clock.advance(60);
    device.newMessages();
    device.live.setSong("current_song_time", 64.0 + 0.12 + 0.01);
    assert.deepEqual(device.newMessages(), []);
});

test("a loop wrap sends at once", () => {
    const device = startDevice((live) => {
        live.setSong("loop", 1);
        live.setSong("loop_start", 4);
        live.setSong("loop_length", 4);
        live.setSong("current_song_time", 7.5);
    });
    device.live.setSong("is_playing", 1);
    device.clock.advance(200);
    device.live.setSong("current_song_time", 7.9);
    device.newMessages();
    device.clock.advance(50);
    device.newMessages();
    device.live.setSong("current_song_time", 4.0);
    const [wrapped] = device.newMessages();
    assertTransport(wrapped, { playing: 1, beat: 4, bar: 2, barStartBeat: 4 });
    assert.equal(wrapped.atMs, device.clock.nowMs);
});

test("a tempo change sends at once and keeps the playhead continuous", () => {
    const device = startDevice();
    device.live.setSong("is_playing", 1);
    device.clock.advance(1010);   // 2.02 beats
    device.newMessages();
    device.live.setSong("tempo", 140);
    const [changed] = device.newMessages();
    assertTransport(changed, { playing: 1, beat: 2.02, bpm: 140 });
    device.clock.advance(10);     // one tick: 10 ms at 140 BPM
    const [next] = device.newMessages();
    assertTransport(next, { beat: 2.02 + 140 / 6000, bpm: 140 });
});

test("a meter change restarts bar counting where the bar began", () => {
    const device = startDevice();
    device.live.setSong("current_song_time", 16);   // bar 5 in 4/4
    device.newMessages();
    device.live.setSong("signature_numerator", 3);
    const [threeFour] = device.newMessages();
    assertTransport(threeFour, { numerator: 3, denominator: 4, bar: 5, barStartBeat: 16 });
    device.live.setSong("current_song_time", 19.5);
    assertTransport(device.newMessages()[0], { bar: 6, barStartBeat: 19 });
    device.live.setSong("signature_numerator", 6);
    device.live.setSong("signature_denominator", 8);
    const messages = device.newMessages();
    assertTransport(messages[messages.length - 1], { numerator: 6, denominator: 8, bar: 6, barStartBeat: 19 });
    device.live.setSong("current_song_time", 22.25);  // bars of 6/8 are 3 quarter notes
    assertTransport(device.newMessages()[0], { bar: 7, barStartBeat: 22 });
});

test("plugsync~ gives bars directly and outranks the song-time observer", () => {
    const device = startDevice();
    device.newMessages();
    // running, bar 5, beat 2 of the bar, half-way through it, 17.5 quarter notes
    device.send("sync", 1, 5, 2, 0.5, 17.5);
    const [started] = device.newMessages();
    assertTransport(started, { playing: 1, beat: 17.5, bar: 5, barStartBeat: 16 });
    device.clock.advance(20);
    device.live.setSong("current_song_time", 17.5);  // late, coarse observer report: ignored
    device.clock.advance(20);
    const latest = device.newMessages().pop();
    assertTransport(latest, { beat: 17.58, bar: 5 });
    // stopped, plugsync~ still reports where playback stopped; a seek in Live wins
    device.send("sync", 0, 5, 3, 0, 18.1);
    assertTransport(device.newMessages().pop(), { playing: 0, beat: 17.58 });
    device.live.setSong("current_song_time", 40.0);
    device.send("sync", 0, 5, 3, 0, 18.1);
    device.clock.advance(300);
    device.newMessages().forEach((m) => assertTransport(m, { playing: 0, beat: 40.0 }));
    device.send("sync", 1, 11, 1, 0, 40.0);
    assertTransport(device.newMessages().pop(), { playing: 1, beat: 40.0, bar: 11, barStartBeat: 40 });
    // without bar information (bar 0) the bar grid stays as it was
    device.send("sync", 1, 0, 0, 0, 40.5);
    device.clock.advance(20);
    assertTransport(device.newMessages().pop(), { bar: 11, barStartBeat: 40 });
});

test("locators are sent sorted when added, renamed, moved or removed", () => {
    const device = startDevice();
    device.newMessages();
    const verse = device.live.addCue("Verse", 16);
    device.clock.advance(20);
    let markers = device.newMessages().filter((m) => m.address === "/daw/markers");
    assert.deepEqual(markers.map(values), [["Verse", 16]]);

    const intro = device.live.addCue("Intro", 0);
    device.clock.advance(20);
    markers = device.newMessages().filter((m) => m.address === "/daw/markers");
    assert.deepEqual(markers.map(values), [["Intro", 0, "Verse", 16]]);

    device.live.renameCue(verse, "Verse 1 (big)");
    device.live.moveCue(intro, 4.5);
    device.clock.advance(20);
    markers = device.newMessages().filter((m) => m.address === "/daw/markers");
    assert.deepEqual(markers.map(values), [["Intro", 4.5, "Verse 1 (big)", 16]]);

    device.clock.advance(200);
    assert.equal(device.newMessages().filter((m) => m.address === "/daw/markers").length, 0,
        "no markers without a change");

    device.live.removeCue(intro);
    device.live.removeCue(verse);
    device.clock.advance(20);
    markers = device.newMessages().filter((m) => m.address === "/daw/markers");
    assert.deepEqual(markers.map(values), [[]]);
});

test("loop changes are sent", () => {
    const device = startDevice();
    device.newMessages();
    device.live.setSong("loop", 1);
    device.live.setSong("loop_start", 32);
    device.live.setSong("loop_length", 16);
    device.clock.advance(20);
    const loops = device.newMessages().filter((m) => m.address === "/daw/loop");
    assert.deepEqual(loops.map(values), [[1, 32, 48]]);
});

test("macro moves are sent once per change, clamped to 0..1", () => {
    const device = startDevice();
    device.newMessages();
    device.send("macro", 2, 0.5);
    device.send("macro", 4, 1.5);
    device.clock.advance(20);
    let macros = device.newMessages().filter((m) => m.address === "/daw/macros");
    assert.deepEqual(macros.map(values), [[0, 0.5, 0, 1]]);
    device.send("macro", 2, 0.5);
    device.clock.advance(40);
    macros = device.newMessages().filter((m) => m.address === "/daw/macros");
    assert.deepEqual(macros, []);
    device.send("macro", 1, 0.25);
    device.clock.advance(20);
    macros = device.newMessages().filter((m) => m.address === "/daw/macros");
    assert.deepEqual(macros.map(values), [[0.25, 0.5, 0, 1]]);
});

test("audio features are sent as floats at the tick rate", () => {
    const device = startDevice();
    device.newMessages();
    device.send("audio", 0.25, 1, 0, 0.5, 0.125, 0, 0, 0, 0, 0.0625);
    device.clock.advance(20);
    device.clock.advance(20);   // no new values: nothing more
    const audio = device.newMessages().filter((m) => m.address === "/daw/audio");
    assert.deepEqual(audio.map(values), [[0.25, 1, 0, 0.5, 0.125, 0, 0, 0, 0, 0.0625]]);
    device.send("audio", 0.1, 0.2);
    assert.match(device.posts.join("\n"), /audio needs 10 values/);
});

test("the status light follows /renderer/ack for our session only", () => {
    const device = startDevice();
    const [hello] = device.newMessages();
    const sessionId = values(hello)[2];
    const statusTexts = () => device.outputs.filter((m) => m.outlet === 4).map((m) => m.args[0]);
    assert.deepEqual(statusTexts(), ["sending, no answer"]);
    device.send("/renderer/ack", "m4l-someoneelse", "1");
    assert.deepEqual(statusTexts(), ["sending, no answer"]);
    device.send("/renderer/ack", sessionId, "1");
    assert.deepEqual(statusTexts(), ["sending, no answer", "renderer answering"]);
    const light = device.outputs.filter((m) => m.outlet === 3).pop();
    assert.equal(light.selector, "bgfillcolor");
    assert.ok(light.args[1] > light.args[0], "green light");
    device.clock.advance(6000);
    assert.equal(statusTexts().pop(), "sending, no answer");
});

test("off says bye and goes quiet; on says hello again", () => {
    const device = startDevice();
    const sessionId = values(device.newMessages()[0])[2];
    device.send("enable", 0);
    assert.deepEqual(device.newMessages().map((m) => [m.address].concat(values(m))), [["/daw/bye", sessionId]]);
    device.clock.advance(3000);
    device.live.setSong("is_playing", 1);
    assert.deepEqual(device.newMessages(), []);
    device.send("enable", 1);
    assert.deepEqual(device.addresses(device.newMessages()),
        ["/daw/hello", "/daw/markers", "/daw/loop", "/daw/macros", "/daw/transport"]);
});

test("host and port from the device UI reconfigure udpsend and greet the new renderer", () => {
    const device = startDevice();
    device.newMessages();
    device.send("host", "text", "192.168.1.20");
    device.send("port", 9555);
    device.send("port", 70000);
    const config = device.outputs.filter((m) => m.outlet === 1).slice(2).map((m) => [m.selector].concat(m.args));
    assert.deepEqual(config, [["host", "192.168.1.20"], ["port", 9555]]);
    assert.equal(device.newMessages().filter((m) => m.address === "/daw/hello").length, 2);
    assert.match(device.posts.join("\n"), /port must be 1\.\.65535/);
});

test("the bar.beat display follows the playhead", () => {
    const device = startDevice();
    device.live.setSong("current_song_time", 13.0);  // bar 4, beat 2
    device.clock.advance(20);
    const shown = device.outputs.filter((m) => m.outlet === 5).map((m) => m.args[0]);
    assert.equal(shown.pop(), "4.2");
});

test("removing the device says bye", () => {
    const device = startDevice();
    const sessionId = values(device.newMessages()[0])[2];
    device.send("notifydeleted");
    assert.deepEqual(device.newMessages().map((m) => [m.address].concat(values(m))), [["/daw/bye", sessionId]]);
    device.clock.advance(1000);
    assert.deepEqual(device.newMessages(), []);
});

test("two devices in one set keep separate sessions and reply ports", () => {
    const first = startDevice();
    const second = startDevice();
    const [a, b] = [first, second].map((d) => values(d.newMessages()[0]));
    assert.notEqual(a[2], b[2], "session ids differ");
    assert.notEqual(a[3], b[3], "reply ports differ");
    first.send("macro", 1, 0.75);
    first.clock.advance(20);
    second.clock.advance(20);
    assert.equal(first.newMessages().filter((m) => m.address === "/daw/macros").length, 1);
    assert.equal(second.newMessages().filter((m) => m.address === "/daw/macros").length, 0);
});

test("host, port, on/off and macros saved with the Live set are read when the device starts", () => {
    const device = startDevice(() => {}, {
        barlight_host: ["text", "10.0.0.7"], barlight_port: 9500, barlight_on: 1, barlight_macro_3: 0.5,
    });
    const config = device.outputs.filter((m) => m.outlet === 1).map((m) => [m.selector].concat(m.args));
    assert.deepEqual(config.slice(-2), [["host", "10.0.0.7"], ["port", 9500]]);
    const messages = device.newMessages();
    assert.equal(messages.filter((m) => m.address === "/daw/hello").length, 1);
    assert.deepEqual(values(messages.find((m) => m.address === "/daw/macros")), [0, 0, 0.5, 0]);

    const off = startDevice(() => {}, { barlight_on: 0 });
    assert.deepEqual(off.newMessages(), []);
    off.clock.advance(3000);
    assert.deepEqual(off.newMessages(), []);
});
