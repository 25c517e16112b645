// Barlight — the Max for Live device's control logic (OSC protocol v1.1, docs/protocol.md).
//
// Runs inside Max's `v8` object (embedded in the device by `barlight m4l build`) or the older
// `js` object (`--external-js`), so it sticks to ES5. Tests run it under Node with a stand-in
// for Max's globals (tests/m4l/max_standin.js).
//
// Inlet 0 takes every message; the patcher prepends a name to each source:
//   init BUFFER                live.thisdevice is ready: start observing the Live set; BUFFER is the
//                              buffer~ record~ loops the mono mix into (its ---name made unique by Live)
//   pcmhead POSITION           record~'s sync ramp (0..1: where in BUFFER it writes), ~50 Hz
//   sync RUN BAR BEAT FRAC PPQ  plugsync~ (running, bar, beat in bar, beat fraction, quarter notes)
//   audio RMS PEAK B0..B7       snapshot~/peakamp~ values, ~50 Hz
//   macro INDEX VALUE          a visual macro dial moved (INDEX 1..4, VALUE 0..1)
//   host NAME / port NUMBER    destination from the device UI
//   enable 0|1                 the on/off button
//   /renderer/ack SID VERSION  udpreceive: a renderer answered our hello
// Outlets: 0 OSC messages -> udpsend, 1 host/port -> udpsend, 2 port -> udpreceive,
//          3 status light colour -> panel, 4 status text -> message box, 5 bar.beat -> message box,
//          6 record~ on/off.
//
// The mix itself (/daw/pcm, v1.1) needs an OSC blob, which udpsend cannot write from Max atoms.
// Under Max 9.2's v8 the script sends those datagrams itself through require("dgram"); at each tick
// it reads the samples record~ wrote since the last one with the Buffer object's peek(). Without
// dgram (the classic js object, older Max) it sends no PCM and the renderer uses /daw/audio.
//
// Max turns a JS number without a fractional part into an int atom, and udpsend writes int
// atoms as OSC 'i'. Every argument the protocol types 'f' therefore goes through toFloatAtom().

autowatch = 0;
inlets = 1;
outlets = 7;

var OUT_OSC = 0;
var OUT_UDPSEND = 1;
var OUT_UDPRECEIVE = 2;
var OUT_LIGHT = 3;
var OUT_STATUS = 4;
var OUT_POSITION = 5;
var OUT_RECORD = 6;

var PROTOCOL_VERSION = "1.1";
var SOURCE = "m4l";
var DEFAULT_HOST = "127.0.0.1";
var DEFAULT_PORT = 9420;
var TICK_MS = 20;                 // 50 Hz while playing (protocol: 30-60 Hz)
var STOPPED_INTERVAL_MS = 250;    // 4 Hz while stopped (protocol: 2-5 Hz)
var HELLO_INTERVAL_MS = 2000;
var ACK_TIMEOUT_MS = 5000;
var SYNC_FRESH_MS = 200;          // plugsync~ counts as the position source this long after its last report
var JUMP_TOLERANCE_BEATS = 0.25;  // a position this far from the extrapolated one is a seek or loop wrap
var REPLY_PORT_MIN = 49152;
var REPLY_PORT_SPAN = 16000;
var PCM_BLOCK_SAMPLES = 512;      // one /daw/pcm datagram: 1 KiB of samples, under an Ethernet MTU
var PCM_MAX_BLOCKS = 32;          // per tick; more waiting means the script stalled: skip to the head

var LIGHT_COLOURS = {
    off: [0.35, 0.35, 0.35, 1.0],
    sending: [0.95, 0.65, 0.15, 1.0],
    answering: [0.25, 0.85, 0.35, 1.0]
};

var SONG_PROPERTIES = [
    "is_playing", "current_song_time", "tempo", "signature_numerator",
    "signature_denominator", "loop", "loop_start", "loop_length", "cue_points"
];

var sessionId = makeSessionId();
var replyPort = REPLY_PORT_MIN + Math.floor(Math.random() * REPLY_PORT_SPAN);
var destination = { host: DEFAULT_HOST, port: DEFAULT_PORT };
var enabled = true;
var started = false;
var songObservers = [];
var cueObservers = [];
var cues = {};
var cueOrder = [];
var pendingCueIds = null;     // a new cue_points list not yet observed
var ticker = null;

var transport = {
    playing: 0,
    anchorBeat: 0.0,        // quarter notes at anchorMs
    anchorMs: 0,
    bpm: 120.0,
    numerator: 4,
    denominator: 4,
    barAnchor: { bar: 1, startBeat: 0.0 },
    syncSeenMs: -Infinity
};
var loop = { on: 0, startBeat: 0.0, lengthBeats: 4.0 };
var macros = [0.0, 0.0, 0.0, 0.0];
var audioValues = null;       // the latest 10 feature values, null once sent
var dirty = { markers: false, loop: false, macros: false };
var timers = { helloDue: -Infinity, stoppedDue: -Infinity, ack: -Infinity };
var shown = { light: "", status: "", position: "" };
var pcm = {
    buffer: null,           // Max's Buffer over the device's buffer~
    socket: null,           // a dgram socket (v8 in Max 9.2+), null: no PCM
    head: -1,               // record~'s last sync value (0..1), -1 before the first
    read: -1,               // frame of the buffer the next block starts at, -1 before the first head
    lastHead: 0,            // the head at the last tick
    next: 0,                // sender sample number of that frame (first_sample of the next block)
    lastMs: 0,              // when the script last read
    sent: 0,                // datagrams sent
    skipped: 0              // samples skipped after a stall (a gap the renderer fills with silence)
};

// ---------------------------------------------------------------- messages from the patcher

function init(bufferName) {
    if (ticker) {
        return;
    }
    readSavedSettings(this.patcher);
    openPcm(bufferName);
    var i;
    for (i = 0; i < SONG_PROPERTIES.length; i++) {
        songObservers.push(observeSong(SONG_PROPERTIES[i]));  // reports current values, sends nothing yet
    }
    started = true;
    outlet(OUT_UDPRECEIVE, "port", replyPort);
    outlet(OUT_UDPSEND, "host", destination.host);
    outlet(OUT_UDPSEND, "port", destination.port);
    ticker = new Task(tick, this);
    ticker.interval = TICK_MS;
    ticker.repeat();
    if (enabled) {
        greet(nowMs());
    }
    updateDisplays(nowMs());
}

function pcmhead(position) {
    if (position >= 0 && position <= 1) {
        pcm.head = position;
    }
}

function sync(running, bar, beatInBar, fraction, ppq) {
    var now = nowMs();
    var toggled = applyPlaying(running ? 1 : 0, now);
    if (!running) {
        if (toggled) {
            sendTransportNow(now);
        }
        return;  // stopped: Live's song time (the insert marker) is the position, not plugsync~
    }
    transport.syncSeenMs = now;
    if (bar >= 1 && beatInBar >= 1) {   // plugsync~ reports 0 until the host gives bar information
        var quarterNotesPerBeat = 4.0 / transport.denominator;
        transport.barAnchor = {
            bar: Math.round(bar),
            startBeat: ppq - ((beatInBar - 1) + fraction) * quarterNotesPerBeat
        };
    }
    var moved = applyPosition(ppq, now, "sync");
    if (moved || toggled) {
        sendTransportNow(now);
    }
}

function audio() {
    var values = arrayfromargs(arguments);
    if (values.length !== 10) {
        post("barlight: audio needs 10 values (rms, peak, 8 bands), got " + values.length + "\n");
        return;
    }
    audioValues = values;
}

function macro(index, value) {
    var i = Math.round(index) - 1;
    if (i < 0 || i > 3) {
        post("barlight: macro index must be 1..4, got " + index + "\n");
        return;
    }
    var clamped = Math.min(1.0, Math.max(0.0, value));
    if (clamped !== macros[i]) {
        macros[i] = clamped;
        dirty.macros = true;
    }
}

function host() {
    setHost(arrayfromargs(arguments));
}

function setHost(words) {
    if (words.length > 0 && words[0] === "text") {
        words = words.slice(1);  // textedit may prefix its output with "text"
    }
    var name = words.join("").replace(/^\s+|\s+$/g, "");
    if (name === "" || name === destination.host) {
        return;
    }
    destination.host = name;
    outlet(OUT_UDPSEND, "host", name);
    if (started && enabled) {
        greet(nowMs());
    }
}
setHost.local = 1;

function port(number) {
    var value = Math.round(number);
    if (!(value >= 1 && value <= 65535)) {
        post("barlight: port must be 1..65535, got " + number + "\n");
        return;
    }
    if (value === destination.port) {
        return;
    }
    destination.port = value;
    outlet(OUT_UDPSEND, "port", value);
    if (started && enabled) {
        greet(nowMs());
    }
}

function enable(on) {
    var value = on ? true : false;
    if (value === enabled) {
        return;
    }
    enabled = value;
    if (!started) {
        return;
    }
    if (enabled) {
        greet(nowMs());
    } else {
        outlet(OUT_OSC, "/daw/bye", sessionId);
    }
    recordPcm();
    updateDisplays(nowMs());
}

function anything() {
    if (messagename === "/renderer/ack") {
        var args = arrayfromargs(arguments);
        if (String(args[0]) === sessionId) {
            timers.ack = nowMs();
            updateDisplays(timers.ack);
        }
        return;
    }
    post("barlight: unknown message " + messagename + "\n");
}

function notifydeleted() {
    if (started && enabled) {
        outlet(OUT_OSC, "/daw/bye", sessionId);
    }
    stopObserving();
    if (ticker) {
        ticker.cancel();
    }
    if (pcm.socket) {
        outlet(OUT_RECORD, 0);
        pcm.socket.close();
        pcm.socket = null;
    }
}

// The device UI's saved values (host, port, on/off, macros), read once when the device is ready,
// in case Live restored them before this script could listen.
function readSavedSettings(patcher) {
    if (!patcher || typeof patcher.getnamed !== "function") {
        return;
    }
    var saved = function (varname) {
        var box = patcher.getnamed(varname);
        if (!box) {
            return null;
        }
        var value = box.getvalueof();
        return Object.prototype.toString.call(value) === "[object Array]" ? value : [value];
    };
    var value = saved("barlight_host");
    if (value && String(value.join("")) !== "") {
        setHost(value);
    }
    value = saved("barlight_port");
    if (value) {
        port(Number(value[0]));
    }
    value = saved("barlight_on");
    if (value) {
        enabled = Number(value[0]) ? true : false;
    }
    var i;
    for (i = 1; i <= 4; i++) {
        value = saved("barlight_macro_" + i);
        if (value) {
            macro(i, Number(value[0]));
        }
    }
}
readSavedSettings.local = 1;

// ---------------------------------------------------------------- the Live set

function observeSong(property) {
    var api = new LiveAPI(onSongProperty, "live_set");
    api.property = property;
    return api;
}
observeSong.local = 1;

function onSongProperty(args) {
    if (!args || args.length < 1) {
        return;
    }
    var name = args[0];
    var value = args[1];
    var now = nowMs();
    if (name === "is_playing") {
        setPlaying(value ? 1 : 0, now);
    } else if (name === "current_song_time") {
        setPosition(Number(value), now, "song");
    } else if (name === "tempo") {
        setTempo(Number(value), now);
    } else if (name === "signature_numerator") {
        setMeter(Math.round(value), transport.denominator, now);
    } else if (name === "signature_denominator") {
        setMeter(transport.numerator, Math.round(value), now);
    } else if (name === "loop") {
        setLoop(value ? 1 : 0, loop.startBeat, loop.lengthBeats);
    } else if (name === "loop_start") {
        setLoop(loop.on, Number(value), loop.lengthBeats);
    } else if (name === "loop_length") {
        setLoop(loop.on, loop.startBeat, Number(value));
    } else if (name === "cue_points") {
        pendingCueIds = args.slice(1);  // observe the new locators on the next tick, outside this notification
        if (!started) {
            watchPendingCues();
        }
    }
}
onSongProperty.local = 1;

function watchPendingCues() {
    if (pendingCueIds === null) {
        return;
    }
    var idList = pendingCueIds;
    pendingCueIds = null;
    var ids = [];
    var i;
    for (i = 0; i + 1 < idList.length; i += 2) {
        if (idList[i] === "id" && Number(idList[i + 1]) > 0) {
            ids.push(Number(idList[i + 1]));
        }
    }
    for (i = 0; i < cueObservers.length; i++) {
        cueObservers[i].property = "";
    }
    cueObservers = [];
    cues = {};
    cueOrder = ids;
    for (i = 0; i < ids.length; i++) {
        cues[ids[i]] = { name: "", beat: 0.0 };
        cueObservers.push(observeCue(ids[i], "name"));
        cueObservers.push(observeCue(ids[i], "time"));
    }
    dirty.markers = true;
}
watchPendingCues.local = 1;

function observeCue(id, property) {
    var api = new LiveAPI(function (args) {
        onCueProperty(id, args);
    }, "id " + id);
    api.property = property;
    return api;
}
observeCue.local = 1;

function onCueProperty(id, args) {
    var cue = cues[id];
    if (!cue || !args || args.length < 2) {
        return;
    }
    if (args[0] === "name") {
        var name = args.slice(1).join(" ");
        if (name !== cue.name) {
            cue.name = name;
            dirty.markers = true;
        }
    } else if (args[0] === "time") {
        var beat = Number(args[1]);
        if (beat !== cue.beat) {
            cue.beat = beat;
            dirty.markers = true;
        }
    }
}
onCueProperty.local = 1;

function stopObserving() {
    var all = songObservers.concat(cueObservers);
    var i;
    for (i = 0; i < all.length; i++) {
        all[i].property = "";
    }
    songObservers = [];
    cueObservers = [];
}
stopObserving.local = 1;

// ---------------------------------------------------------------- transport state

function beatAt(now) {
    if (!transport.playing) {
        return transport.anchorBeat;
    }
    var beat = transport.anchorBeat + (now - transport.anchorMs) / 60000.0 * transport.bpm;
    var loopEnd = loop.startBeat + loop.lengthBeats;
    if (loop.on && loop.lengthBeats > 0 && transport.anchorBeat < loopEnd && beat >= loopEnd) {
        beat = loop.startBeat + (beat - loopEnd) % loop.lengthBeats;
    }
    return beat;
}
beatAt.local = 1;

function barAt(beat) {
    var lengthBeats = transport.numerator * 4.0 / transport.denominator;
    var anchor = transport.barAnchor;
    var bars = Math.floor((beat - anchor.startBeat) / lengthBeats + 1e-9);
    return { bar: anchor.bar + bars, startBeat: anchor.startBeat + bars * lengthBeats };
}
barAt.local = 1;

function reanchor(now) {
    transport.anchorBeat = beatAt(now);
    transport.anchorMs = now;
}
reanchor.local = 1;

function setPlaying(playing, now) {
    if (applyPlaying(playing, now)) {
        sendTransportNow(now);
    }
}
setPlaying.local = 1;

function applyPlaying(playing, now) {
    if (playing === transport.playing) {
        return false;
    }
    reanchor(now);
    transport.playing = playing;
    return true;
}
applyPlaying.local = 1;

function setPosition(beats, now, source) {
    if (applyPosition(beats, now, source)) {
        sendTransportNow(now);
    }
}
setPosition.local = 1;

// Re-anchor the playhead on a reported position; true when it was a seek or loop wrap.
function applyPosition(beats, now, source) {
    if (!isFinite(beats)) {
        return false;
    }
    var expected = beatAt(now);
    var tolerance = transport.playing ? JUMP_TOLERANCE_BEATS : 1e-6;
    var wentBack = transport.playing && beats < transport.anchorBeat - 1e-6;  // loop wrap or seek
    var jumped = wentBack || Math.abs(beats - expected) > tolerance;
    var syncIsFresh = now - transport.syncSeenMs <= SYNC_FRESH_MS;
    if (source === "song" && syncIsFresh && !jumped) {
        return false;  // plugsync~ is the finer source; Live's observer only reports seeks here
    }
    transport.anchorBeat = beats;
    transport.anchorMs = now;
    return jumped;
}
applyPosition.local = 1;

function setTempo(bpm, now) {
    if (!(bpm > 0 && bpm <= 999) || bpm === transport.bpm) {
        return;
    }
    reanchor(now);
    transport.bpm = bpm;
    sendTransportNow(now);
}
setTempo.local = 1;

function setMeter(numerator, denominator, now) {
    if (numerator === transport.numerator && denominator === transport.denominator) {
        return;
    }
    if (!(numerator >= 1 && numerator <= 99 && denominator >= 1 && (denominator & (denominator - 1)) === 0)) {
        return;
    }
    var current = barAt(beatAt(now));   // the bar under the old meter starts the new one
    transport.barAnchor = { bar: current.bar, startBeat: current.startBeat };
    transport.numerator = numerator;
    transport.denominator = denominator;
    sendTransportNow(now);
}
setMeter.local = 1;

function setLoop(on, startBeat, lengthBeats) {
    if (on === loop.on && startBeat === loop.startBeat && lengthBeats === loop.lengthBeats) {
        return;
    }
    loop.on = on;
    loop.startBeat = startBeat;
    loop.lengthBeats = lengthBeats;
    dirty.loop = true;
}
setLoop.local = 1;

// ---------------------------------------------------------------- sending

function tick() {
    var now = nowMs();
    watchPendingCues();
    if (started && enabled) {
        if (now >= timers.helloDue) {
            greet(now);
        } else {
            flushChanges();
            if (transport.playing || now >= timers.stoppedDue) {
                sendTransport(now);
            }
        }
        if (audioValues) {
            sendAudio();
        }
        sendPcm(now);
    }
    updateDisplays(now);
}
tick.local = 1;

function greet(now) {
    timers.helloDue = nextDue(timers.helloDue, HELLO_INTERVAL_MS, now);
    outlet(OUT_OSC, "/daw/hello", SOURCE, PROTOCOL_VERSION, sessionId, replyPort);
    if (pcm.socket) {  // the PCM leaves from another UDP port: its own hello ties that port to this session
        pcm.socket.send(oscDatagram("/daw/hello", "sssi", [SOURCE, PROTOCOL_VERSION, sessionId, replyPort]),
            destination.port, destination.host);
    }
    dirty.markers = true;
    dirty.loop = true;
    dirty.macros = true;
    flushChanges();
    sendTransport(now);
}
greet.local = 1;

function flushChanges() {
    if (dirty.markers) {
        sendMarkers();
    }
    if (dirty.loop) {
        dirty.loop = false;
        outlet(OUT_OSC, "/daw/loop", loop.on, toFloatAtom(loop.startBeat),
            toFloatAtom(loop.startBeat + loop.lengthBeats));
    }
    if (dirty.macros) {
        dirty.macros = false;
        outlet(OUT_OSC, "/daw/macros", toFloatAtom(macros[0]), toFloatAtom(macros[1]),
            toFloatAtom(macros[2]), toFloatAtom(macros[3]));
    }
}
flushChanges.local = 1;

function sendTransportNow(now) {
    if (started && enabled) {
        sendTransport(now);
    }
}
sendTransportNow.local = 1;

function sendTransport(now) {
    timers.stoppedDue = now >= timers.stoppedDue ? nextDue(timers.stoppedDue, STOPPED_INTERVAL_MS, now)
        : now + STOPPED_INTERVAL_MS;
    var beat = beatAt(now);
    var bar = barAt(beat);
    outlet(OUT_OSC, "/daw/transport", transport.playing, toFloatAtom(beat), toFloatAtom(transport.bpm),
        transport.numerator, transport.denominator, toFloatAtom(bar.startBeat), bar.bar);
}
sendTransport.local = 1;

function sendMarkers() {
    dirty.markers = false;
    var list = [];
    var i;
    for (i = 0; i < cueOrder.length; i++) {
        list.push(cues[cueOrder[i]]);
    }
    list.sort(function (a, b) {
        return a.beat - b.beat;
    });
    var message = ["/daw/markers"];
    for (i = 0; i < list.length; i++) {
        message.push(String(list[i].name), toFloatAtom(list[i].beat));
    }
    outlet(OUT_OSC, message);
}
sendMarkers.local = 1;

function sendAudio() {
    var message = ["/daw/audio"];
    var i;
    for (i = 0; i < audioValues.length; i++) {
        message.push(toFloatAtom(Number(audioValues[i])));
    }
    audioValues = null;
    outlet(OUT_OSC, message);
}
sendAudio.local = 1;

function updateDisplays(now) {
    var light = !(started && enabled) ? "off" : (now - timers.ack <= ACK_TIMEOUT_MS ? "answering" : "sending");
    if (light !== shown.light) {
        shown.light = light;
        var colour = LIGHT_COLOURS[light];
        outlet(OUT_LIGHT, "bgfillcolor", colour[0], colour[1], colour[2], colour[3]);
        var text = light === "off" ? "off" : (light === "answering" ? "renderer answering" : "sending, no answer");
        outlet(OUT_STATUS, "set", text);
    }
    var beat = beatAt(now);
    var bar = barAt(beat);
    var beatInBar = Math.floor((beat - bar.startBeat) * transport.denominator / 4.0 + 1e-9) + 1;
    var position = bar.bar + "." + beatInBar;
    if (position !== shown.position) {
        shown.position = position;
        outlet(OUT_POSITION, "set", position);
    }
}
updateDisplays.local = 1;

// ---------------------------------------------------------------- the mix (/daw/pcm)

// A dgram socket and the Buffer over BUFFER, if this Max has both; else no PCM (posted once).
function openPcm(bufferName) {
    if (!bufferName || typeof require !== "function" || typeof Buffer !== "function") {
        post("barlight: no /daw/pcm here (needs the v8 object of Max 9.2+); sending /daw/audio only\n");
        return;
    }
    try {
        pcm.socket = require("dgram").createSocket("udp4");
        pcm.buffer = new Buffer(String(bufferName));
    } catch (err) {
        post("barlight: no /daw/pcm: " + err + "\n");
        pcm.socket = null;
        pcm.buffer = null;
        return;
    }
    recordPcm();
}
openPcm.local = 1;

function recordPcm() {
    if (pcm.socket) {
        outlet(OUT_RECORD, enabled ? 1 : 0);
        pcm.read = -1;  // a fresh start at the next head: what was written while off is not sent
    }
}
recordPcm.local = 1;

// Send what record~ wrote since the last tick, in whole blocks, numbered on from the last one.
// The buffer~'s rate is the DSP rate: frames over its length in seconds.
function sendPcm(now) {
    if (!pcm.socket || pcm.head < 0) {
        return;
    }
    var frames = pcm.buffer.framecount();
    var lengthMs = pcm.buffer.length();
    if (!(frames > PCM_BLOCK_SAMPLES * 4) || !(lengthMs > 0)) {
        return;
    }
    var rate = Math.round(frames * 1000 / lengthMs);
    var head = Math.floor(pcm.head * frames) % frames;
    if (pcm.read < 0) {  // the first head, or the first since switched on: number on by the time off
        pcm.next += pcm.lastMs > 0 ? Math.round((now - pcm.lastMs) * rate / 1000) : 0;
        pcm.read = head;
        pcm.lastHead = head;
        pcm.lastMs = now;
        return;
    }
    var ready = (head - pcm.read + frames) % frames;
    var elapsed = (now - pcm.lastMs) * rate / 1000;
    pcm.lastMs = now;
    if (elapsed >= frames - PCM_BLOCK_SAMPLES || ready > PCM_MAX_BLOCKS * PCM_BLOCK_SAMPLES) {
        // held up: record~ may have gone round the buffer. Skip to the head, numbering on by what it
        // wrote meanwhile (the head's move, plus the turns the clock says it made), which leaves a gap.
        var moved = (head - pcm.lastHead + frames) % frames;
        var turns = Math.max(0, Math.round((elapsed - moved) / frames));
        var missed = (pcm.lastHead - pcm.read + frames) % frames + moved + turns * frames;
        pcm.skipped += missed;
        pcm.next += missed;
        pcm.read = head;
        pcm.lastHead = head;
        return;
    }
    pcm.lastHead = head;
    while (ready >= PCM_BLOCK_SAMPLES) {
        var samples = peekRing(pcm.buffer, pcm.read, PCM_BLOCK_SAMPLES, frames);
        pcm.socket.send(pcmDatagram(pcm.next, rate, samples), destination.port, destination.host);
        pcm.sent += 1;
        pcm.read = (pcm.read + PCM_BLOCK_SAMPLES) % frames;
        pcm.next += PCM_BLOCK_SAMPLES;
        ready -= PCM_BLOCK_SAMPLES;
    }
}
sendPcm.local = 1;

// COUNT samples of channel 1 from FRAME on, going round the end of a buffer of FRAMES frames.
function peekRing(buffer, frame, count, frames) {
    var first = Math.min(count, frames - frame);
    var part = buffer.peek(1, frame, first);
    var samples = [];
    var i;
    for (i = 0; i < first; i++) {
        samples.push(part[i]);
    }
    if (first < count) {
        part = buffer.peek(1, 0, count - first);
        for (i = 0; i < count - first; i++) {
            samples.push(part[i]);
        }
    }
    return samples;
}
peekRing.local = 1;

// One /daw/pcm OSC message: ,hib first_sample (int64), sample_rate (int32), samples (blob of
// big-endian int16).
function pcmDatagram(firstSample, rate, samples) {
    var blob = new Uint8Array(samples.length * 2);
    var i;
    for (i = 0; i < samples.length; i++) {
        var x = Number(samples[i]);
        var value = x === x ? Math.round(Math.max(-1, Math.min(1, x)) * 32767) : 0;  // NaN: silence
        blob[2 * i] = (value >> 8) & 255;
        blob[2 * i + 1] = value & 255;
    }
    return oscDatagram("/daw/pcm", "hib", [firstSample, rate, blob]);
}
pcmDatagram.local = 1;

// An OSC 1.0 message as bytes, for the arguments udpsend cannot write: tags s (string), i (int32),
// h (int64, below 2^53) and b (blob, a Uint8Array); every part padded to 4 bytes.
function oscDatagram(address, tags, args) {
    var size = paddedLength(address.length + 1) + paddedLength(tags.length + 2);
    var i;
    for (i = 0; i < tags.length; i++) {
        var tag = tags.charAt(i);
        size += tag === "s" ? paddedLength(String(args[i]).length + 1) : tag === "i" ? 4 : tag === "h" ? 8
            : 4 + paddedLength(args[i].length);
    }
    var bytes = new Uint8Array(size);
    var at = putString(bytes, 0, address);
    at = putString(bytes, at, "," + tags);
    for (i = 0; i < tags.length; i++) {
        var kind = tags.charAt(i);
        if (kind === "s") {
            at = putString(bytes, at, String(args[i]));
        } else if (kind === "i") {
            at = putInt32(bytes, at, args[i]);
        } else if (kind === "h") {
            at = putInt32(bytes, at, Math.floor(args[i] / 4294967296));
            at = putInt32(bytes, at, args[i] % 4294967296);
        } else {
            at = putInt32(bytes, at, args[i].length);
            bytes.set(args[i], at);
            at += paddedLength(args[i].length);
        }
    }
    return bytes;
}
oscDatagram.local = 1;

function paddedLength(length) {
    return Math.ceil(length / 4) * 4;
}
paddedLength.local = 1;

// An ASCII string, NUL-terminated and padded to 4 bytes (the zeros are already there).
function putString(bytes, at, text) {
    var i;
    for (i = 0; i < text.length; i++) {
        bytes[at + i] = text.charCodeAt(i) & 127;
    }
    return at + paddedLength(text.length + 1);
}
putString.local = 1;

function putInt32(bytes, at, value) {
    var v = value < 0 ? value + 4294967296 : value;
    bytes[at] = Math.floor(v / 16777216) & 255;
    bytes[at + 1] = Math.floor(v / 65536) & 255;
    bytes[at + 2] = Math.floor(v / 256) & 255;
    bytes[at + 3] = v & 255;
    return at + 4;
}
putInt32.local = 1;

// ---------------------------------------------------------------- helpers

function toFloatAtom(value) {
    // The nearest double above an integral value has a fraction, so Max keeps it a float atom;
    // udpsend then writes it as a 32-bit float, which rounds it back to the integral value.
    if (value !== Math.floor(value) || !isFinite(value)) {
        return value;
    }
    if (value === 0) {
        return Number.MIN_VALUE;
    }
    return value + Math.abs(value) * Math.pow(2, -52);
}
toFloatAtom.local = 1;

// The next deadline on a fixed grid, so a 20 ms tick doesn't stretch a 250 ms period to 260 ms.
function nextDue(due, interval, now) {
    var next = due + interval;
    return next > now ? next : now + interval;
}
nextDue.local = 1;

function nowMs() {
    return new Date().getTime();
}
nowMs.local = 1;

function makeSessionId() {
    var digits = "0123456789abcdef";
    var id = "m4l-";
    var i;
    for (i = 0; i < 8; i++) {
        id += digits.charAt(Math.floor(Math.random() * 16));
    }
    return id;
}
makeSessionId.local = 1;
