// A small stand-in for the parts of Max and Live that m4l/barlight.js touches, so the device's
// JavaScript runs under Node: outlet/post/messagename/arguments/inlets/outlets, LiveAPI over a
// scripted Live set, Task over a manual clock, udpsend's OSC encoding, and for the mix (/daw/pcm)
// the Buffer object over a buffer~ that a record~ stand-in loops into, and v8's require("dgram").
//
// Max rules mirrored here (Max JS reference, "js" and "v8" objects; udpsend reference):
// - a JS number with no fractional part leaves an outlet as an int atom, any other number as a
//   float atom, a string as a symbol;
// - udpsend writes a message whose selector starts with "/" as one OSC 1.0 message: int atoms as
//   'i' (int32), float atoms as 'f' (float32), symbols as 's'; "host"/"port" reconfigure it.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const dgram = require("node:dgram");

const DEVICE_JS = path.resolve(__dirname, "..", "..", "m4l", "barlight.js");

class ManualClock {
    constructor(startMs = 1000) {
        this.nowMs = startMs;
        this.tasks = new Set();
    }
    // Run every task due up to now + ms, in time order, then land exactly on the target time.
    advance(ms) {
        const target = this.nowMs + ms;
        for (;;) {
            let next = null;
            for (const task of this.tasks) {
                if (task.dueMs <= target && (next === null || task.dueMs < next.dueMs)) {
                    next = task;
                }
            }
            if (next === null) {
                break;
            }
            this.nowMs = next.dueMs;
            next.dueMs += next.interval;
            next.fire();
        }
        this.nowMs = target;
    }
}

class RealClock {
    get nowMs() {
        return Date.now();
    }
}

// A scripted Live Object Model: "live_set" plus cue points, each an object with properties.
class ScriptedLive {
    constructor() {
        this.nextId = 10;
        this.objects = new Map();
        this.observers = [];
        this.song = {
            id: 1,
            props: {
                is_playing: [0],
                current_song_time: [0.0],
                tempo: [120.0],
                signature_numerator: [4],
                signature_denominator: [4],
                loop: [0],
                loop_start: [0.0],
                loop_length: [16.0],
                cue_points: [],
            },
        };
        this.objects.set(1, this.song);
    }
    resolve(pathText) {
        if (pathText === "live_set") {
            return this.song;
        }
        const match = /^id (\d+)$/.exec(String(pathText));
        return match ? this.objects.get(Number(match[1])) : undefined;
    }
    set(object, property, value) {
        object.props[property] = Array.isArray(value) ? value : [value];
        for (const observer of this.observers.slice()) {
            if (observer.object === object && observer.property === property) {
                observer.report();
            }
        }
    }
    setSong(property, value) {
        this.set(this.song, property, value);
    }
    cueIdList() {
        const list = [];
        for (const [id, object] of this.objects) {
            if (object.isCue) {
                list.push("id", id);
            }
        }
        return list;
    }
    addCue(name, beat) {
        const id = this.nextId++;
        this.objects.set(id, { id, isCue: true, props: { name: [name], time: [beat] } });
        this.setSong("cue_points", this.cueIdList());
        return id;
    }
    renameCue(id, name) {
        this.set(this.objects.get(id), "name", name);
    }
    moveCue(id, beat) {
        this.set(this.objects.get(id), "time", beat);
    }
    removeCue(id) {
        this.objects.delete(id);
        this.setSong("cue_points", this.cueIdList());
    }
}

function makeLiveAPI(live) {
    return function LiveAPI(callback, pathText) {
        const object = live.resolve(pathText);
        let observed = "";
        const self = this;
        const observer = {
            object,
            get property() {
                return observed;
            },
            report() {
                callback.call(self, [observed].concat(object.props[observed]));
            },
        };
        this.path = pathText;
        this.id = object ? object.id : 0;
        this.get = (property) => (object ? object.props[property].slice() : []);
        Object.defineProperty(this, "property", {
            get: () => observed,
            set: (property) => {
                live.observers = live.observers.filter((o) => o !== observer);
                observed = property;
                if (property && object) {
                    live.observers.push(observer);
                    observer.report();  // Live reports the current value when observing starts
                }
            },
        });
        if (object) {
            callback.call(this, ["id", object.id]);  // LiveAPI announces the object it points at
        }
    };
}

function makeTask(clock) {
    return function Task(fn, thisObject) {
        this.interval = 0;
        const task = { dueMs: 0, interval: 0, fire: () => fn.call(thisObject) };
        this.repeat = () => {
            task.interval = Math.max(1, this.interval);
            task.dueMs = clock.nowMs + task.interval;
            if (clock.tasks) {
                clock.tasks.add(task);
            } else {
                task.timer = setInterval(task.fire, task.interval);
            }
        };
        this.cancel = () => {
            if (clock.tasks) {
                clock.tasks.delete(task);
            } else {
                clearInterval(task.timer);
            }
        };
    };
}

// Max's conversion of outlet() arguments to atoms.
function toAtoms(args) {
    return args.map((value) => {
        if (typeof value === "number") {
            return Number.isInteger(value) ? { type: "i", value } : { type: "f", value: Math.fround(value) };
        }
        return { type: "s", value: String(value) };
    });
}

function oscString(text) {
    const bytes = Buffer.from(text, "utf8");
    const padded = Buffer.alloc((Math.floor(bytes.length / 4) + 1) * 4);
    bytes.copy(padded);
    return padded;
}

// udpsend's OSC 1.0 encoding of one message.
function encodeOsc(address, atoms) {
    const parts = [oscString(address), oscString("," + atoms.map((a) => a.type).join(""))];
    for (const atom of atoms) {
        if (atom.type === "i") {
            const b = Buffer.alloc(4);
            b.writeInt32BE(atom.value);
            parts.push(b);
        } else if (atom.type === "f") {
            const b = Buffer.alloc(4);
            b.writeFloatBE(atom.value);
            parts.push(b);
        } else {
            parts.push(oscString(atom.value));
        }
    }
    return Buffer.concat(parts);
}

// Max's Buffer object (js/v8 "Buffer", https://docs.cycling74.com/apiref/js/buffer) over one mono
// buffer~ sized in ms at the DSP rate: framecount(), length() in ms, peek(channel 1-based, frame
// 0-based, count) -> array of samples.
class MaxBuffer {
    constructor(frames, rate) {
        this.data = new Float32Array(frames);
        this.rate = rate;
        this.peeks = 0;
    }
    framecount() {
        return this.data.length;
    }
    length() {
        return this.data.length * 1000 / this.rate;
    }
    peek(channel, frame, count) {
        if (channel !== 1 || frame < 0 || count < 1 || frame + count > this.data.length) {
            throw new Error(`peek(${channel}, ${frame}, ${count}) outside a mono buffer of ${this.data.length}`);
        }
        this.peeks += 1;
        return Array.from(this.data.subarray(frame, frame + count));
    }
}

// record~ BUFFER @loop 1: while on, writes its input round the buffer; its sync outlet is the write
// position over the buffer's length (0..1), which the device reads through snapshot~ as "pcmhead".
class RecordStandin {
    constructor(buffer) {
        this.buffer = buffer;
        this.on = false;
        this.at = 0;
        this.written = 0;  // samples written since it was created (the signal's own clock)
    }
    write(samples) {
        if (!this.on) {
            return;
        }
        const data = this.buffer.data;
        for (const x of samples) {
            data[this.at] = x;
            this.at = (this.at + 1) % data.length;
            this.written += 1;
        }
    }
    sync() {
        return this.at / this.buffer.data.length;
    }
}

// v8's require("dgram") (Max 9.2+, https://docs.cycling74.com/apiref/js/dgram-module/): every datagram
// is kept (and logged like udpsend's); with `real` it also goes out through Node's own dgram.
class DgramStandin {
    constructor({ real = false } = {}) {
        this.real = real;
        this.sent = [];
        this.pending = [];
        this.sockets = [];
    }
    createSocket(type) {
        if (type !== "udp4") {
            throw new Error(`dgram stand-in: ${type}`);
        }
        const socket = this.real ? dgram.createSocket("udp4") : null;
        const self = this;
        const handle = {
            send(msg, port, address) {
                const bytes = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
                self.sent.push({ bytes: Buffer.from(bytes), port, address });
                logDatagram(bytes);
                if (socket) {
                    self.pending.push(new Promise((resolve, reject) => {
                        socket.send(bytes, port, address, (err) => (err ? reject(err) : resolve()));
                    }));
                }
            },
            close() {
                handle.closed = true;
            },
            closed: false,
        };
        this.sockets.push({ handle, socket });
        return handle;
    }
    async close() {
        await Promise.all(this.pending);
        for (const { socket } of this.sockets) {
            if (socket) {
                socket.close();
            }
        }
    }
}

class UdpSendStandin {
    constructor(host, port) {
        this.host = host;
        this.port = port;
        this.socket = dgram.createSocket("udp4");
        this.pending = [];
    }
    message(selector, args) {
        if (selector === "host") {
            this.host = String(args[0]);
        } else if (selector === "port") {
            this.port = args[0];
        } else if (String(selector).startsWith("/")) {
            const datagram = encodeOsc(selector, toAtoms(args));
            this.pending.push(new Promise((resolve, reject) => {
                this.socket.send(datagram, this.port, this.host, (err) => (err ? reject(err) : resolve()));
            }));
        }
    }
    async close() {
        await Promise.all(this.pending);
        this.socket.close();
    }
}

// With BARLIGHT_OSC_LOG set, every OSC message the device sends is appended to that file as a JSON line
// {address, datagram (hex, as udpsend writes it)}, for tests/m4l/test_node_suite.py to check against the table.
function logOsc(message) {
    if (message.outlet === 0 && String(message.selector).startsWith("/")) {
        logDatagram(encodeOsc(message.selector, toAtoms(message.args)));
    }
}

function logDatagram(bytes) {
    const file = process.env.BARLIGHT_OSC_LOG;
    if (file) {
        const address = bytes.toString("utf8", 0, bytes.indexOf(0));
        fs.appendFileSync(file, JSON.stringify({ address, datagram: bytes.toString("hex") }) + "\n");
    }
}

// Load barlight.js into a fresh context. `send(name, ...args)` delivers a Max message to inlet 0.
// `ui` holds the values of named UI boxes (varname -> value) that `this.patcher.getnamed(varname)`
// returns through getvalueof(), as Max does for the device's saved host, port and dials.
// `buffers` (name -> MaxBuffer) and `dgram` (a DgramStandin) give the script Max's Buffer and v8's
// require("dgram"); without them it runs as in the classic js object, which has neither.
function loadDevice({ clock = new ManualClock(), live = new ScriptedLive(), onOutlet = null, random = null,
    ui = {}, buffers = null, dgram: dgramModule = null } = {}) {
    const outputs = [];
    const posts = [];
    const mathObject = Object.create(Math);
    if (random) {
        mathObject.random = random;
    }
    class MaxDate {
        getTime() {
            return clock.nowMs;
        }
    }
    const context = {
        Math: mathObject,
        Date: MaxDate,
        post: (...parts) => posts.push(parts.join(" ")),
        outlet: (index, ...args) => {
            if (args.length === 1 && Array.isArray(args[0])) {
                args = Array.from(args[0]);  // Max unrolls an array argument into the message
            }
            const message = { outlet: index, selector: args[0], args: args.slice(1), atMs: clock.nowMs };
            outputs.push(message);
            logOsc(message);
            if (onOutlet) {
                onOutlet(message);
            }
        },
        arrayfromargs: (args) => Array.prototype.slice.call(args),
        LiveAPI: makeLiveAPI(live),
        Task: makeTask(clock),
        messagename: "",
        inlet: 0,
        jsarguments: ["barlight.js"],
        patcher: {
            getnamed: (varname) => (varname in ui ? { getvalueof: () => ui[varname] } : null),
        },
    };
    if (buffers) {
        context.Buffer = function MaxBufferRef(name) {
            if (!(name in buffers)) {
                throw new Error(`no buffer~ named ${name}`);
            }
            return buffers[name];
        };
    }
    if (dgramModule) {
        context.require = (name) => {
            if (name !== "dgram") {
                throw new Error(`require(${name}) is not in the stand-in`);
            }
            return dgramModule;
        };
    }
    vm.createContext(context);
    vm.runInContext(fs.readFileSync(DEVICE_JS, "utf8"), context, { filename: DEVICE_JS });

    function send(name, ...args) {
        context.messagename = name;
        context.inlet = 0;
        const handler = context[name];
        if (typeof handler === "function" && !handler.local && !["anything", "bang"].includes(name)) {
            handler.apply(context, args);
        } else if (typeof context.anything === "function") {
            context.anything.apply(context, args);
        } else {
            throw new Error(`no handler for ${name}`);
        }
    }

    // Messages from outlet 0 as udpsend would type them: {address, atoms: [{type, value}]}.
    function osc() {
        return outputs
            .filter((m) => m.outlet === 0)
            .map((m) => ({ address: m.selector, atoms: toAtoms(m.args), atMs: m.atMs }));
    }

    return { context, send, outputs, posts, osc, clock, live };
}

module.exports = {
    ManualClock, RealClock, ScriptedLive, UdpSendStandin, MaxBuffer, RecordStandin, DgramStandin, loadDevice,
    toAtoms, encodeOsc,
};
