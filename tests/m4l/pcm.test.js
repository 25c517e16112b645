// The mix over the wire (/daw/pcm, protocol v1.1): m4l/barlight.js reading what a record~ stand-in
// loops into a buffer~ stand-in, in its Task, and sending it through a v8 dgram stand-in.
// (tests/m4l/test_node_suite.py also decodes every datagram these tests make with the Python decoder.)
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice, ManualClock, MaxBuffer, RecordStandin, DgramStandin } = require("./max_standin.js");

const BUFFER_NAME = "1042barlight_pcm";  // Live turns the patcher's ---barlight_pcm into a unique name like this
const BLOCK = 512;

// One /daw/pcm datagram read back byte by byte: {address, tags, firstSample, rate, samples (int16), size}.
function decodePcm(bytes) {
    const text = (at) => {
        const end = bytes.indexOf(0, at);
        return [bytes.toString("utf8", at, end), at + (Math.floor((end - at) / 4) + 1) * 4];
    };
    const [address, afterAddress] = text(0);
    const [tags, at] = text(afterAddress);
    const firstSample = Number(bytes.readBigInt64BE(at));
    const rate = bytes.readInt32BE(at + 8);
    const size = bytes.readInt32BE(at + 12);
    const samples = [];
    for (let i = 0; i < size / 2; i++) {
        samples.push(bytes.readInt16BE(at + 16 + 2 * i));
    }
    return { address, tags, firstSample, rate, samples, size, length: bytes.length, blobEnd: at + 16 + size };
}

// The master's mono mix: a tone that glides and swells, so a misplaced sample shows.
function mix(k, rate) {
    return 0.6 * Math.sin(2 * Math.PI * (220 + 40 * Math.sin(k / rate)) * k / rate) * (0.5 + 0.5 * Math.cos(k / 5000));
}

// A sample as buffer~ keeps it (32-bit float) and the device sends it.
function int16(x) {
    return Math.round(Math.max(-1, Math.min(1, Math.fround(x))) * 32767) || 0;  // -0 is 0 on the wire
}

// A device with a 2 s buffer~ at `rate`, a record~ stand-in and a dgram stand-in. `play(ms)` runs
// the audio thread in 5 ms steps (record~ writes, snapshot~ 20 reports its sync ramp as pcmhead) and
// the clock with it, so the device's Task fires on time.
function startPcmDevice({ rate = 44100, bufferMs = 2000, withDgram = true, signal = mix } = {}) {
    const clock = new ManualClock(1000);
    const buffer = new MaxBuffer(Math.round(rate * bufferMs / 1000), rate);
    const record = new RecordStandin(buffer);
    const dgram = new DgramStandin();
    const device = loadDevice({
        clock,
        buffers: { [BUFFER_NAME]: buffer },
        dgram: withDgram ? dgram : null,
        onOutlet: (message) => {
            if (message.outlet === 6) {
                record.on = Boolean(message.selector);
            }
        },
    });
    device.send("init", BUFFER_NAME);
    let due = 0;
    let owed = 0;
    let sinceSnapshot = 0;
    const written = [];
    device.play = (ms, { step = 5, snapshots = true } = {}) => {
        for (let t = 0; t < ms; t += step) {
            owed += rate * step / 1000;
            const block = [];
            while (owed >= 1) {
                block.push(signal(due + block.length, rate));
                owed -= 1;
            }
            if (record.on) {
                record.write(block);
                written.push(...block);
            }
            due += block.length;
            sinceSnapshot += step;
            if (snapshots && sinceSnapshot >= 20) {
                sinceSnapshot = 0;
                device.send("pcmhead", record.sync());
            }
            clock.advance(step);
        }
    };
    const isPcm = (d) => d.bytes.toString("utf8", 0, 8) === "/daw/pcm";
    device.pcm = () => dgram.sent.filter(isPcm).map((d) => ({ ...decodePcm(d.bytes), port: d.port, address: d.address }));
    device.otherDatagrams = () => dgram.sent.filter((d) => !isPcm(d));
    Object.assign(device, { buffer, record, dgram, clock, written });
    return device;
}

test("the mix record~ writes goes out as /daw/pcm blocks numbered on, at the buffer's rate", () => {
    const device = startPcmDevice();
    assert.equal(device.record.on, true, "init switches record~ on");
    device.play(5000);  // 2.5 times round the 2 s buffer
    const sent = device.pcm();
    assert.ok(sent.length >= Math.floor(4.9 * 44100 / BLOCK), `${sent.length} blocks`);
    for (const [i, block] of sent.entries()) {
        assert.equal(block.address, "127.0.0.1");
        assert.equal(block.port, 9420);
        assert.equal(block.rate, 44100);
        assert.equal(block.samples.length, BLOCK);
        assert.equal(block.firstSample, i * BLOCK, "consecutive blocks continue the count");
    }
    // the samples are the mix, in order, across every wrap of the buffer: find where block 0 starts
    const heard = sent.flatMap((b) => b.samples);
    const expected = device.written.map(int16);
    const start = expected.findIndex((_, k) => heard.slice(0, 64).every((v, j) => v === expected[k + j]));
    assert.ok(start >= 0 && start < 44100 * 0.05, `block 0 starts ${start} samples into the recording`);
    assert.deepEqual(heard, expected.slice(start, start + heard.length));
});

// Where the script's sample 0 is in what record~ wrote (the head it saw first), found by content.
function startOf(device, heard) {
    const expected = device.written.map(int16);
    return expected.findIndex((_, k) => heard.slice(0, 64).every((v, j) => v === expected[k + j]));
}

test("the PCM socket says hello for the session too, so the renderer files its blocks under it", () => {
    const device = startPcmDevice();
    device.play(2500);
    const hellos = device.otherDatagrams();
    assert.equal(hellos.length, 2, "with every hello: at start and 2 s on");
    const udpsendHello = device.osc().find((m) => m.address === "/daw/hello");
    const bytes = hellos[0].bytes;
    assert.equal(bytes.toString("utf8", 0, 10), "/daw/hello");
    const text = bytes.toString("latin1");
    for (const value of udpsendHello.atoms.slice(0, 3)) {
        assert.ok(text.includes(`${value.value}\0`), `${value.value} in the PCM socket's hello`);
    }
    assert.equal(bytes.readInt32BE(bytes.length - 4), udpsendHello.atoms[3].value, "the same reply port");
});

test("each tick sends whole blocks up to the head snapshot~ last reported, never past the writer", () => {
    const device = startPcmDevice();
    const reached = [];
    for (let tick = 0; tick < 100; tick++) {
        device.play(20);
        const sent = device.pcm();
        reached.push({ through: sent.length ? sent[sent.length - 1].firstSample + BLOCK : 0, written: device.record.written });
    }
    const zero = startOf(device, device.pcm()[0].samples);
    assert.ok(zero >= 0);
    for (const [i, { through, written }] of reached.entries()) {
        assert.ok(zero + through <= written, `tick ${i}: sent through ${zero + through}, record~ at ${written}`);
        assert.ok(i === 0 || through >= reached[i - 1].through, "never goes back");
        assert.equal(through % BLOCK, 0, "whole blocks only; the rest waits for the next tick");
    }
    // steady state: at most a block plus a snapshot~ period and a tick behind the writer
    const lags = reached.slice(10).map(({ through, written }) => written - (zero + through));
    assert.ok(Math.max(...lags) <= BLOCK + 44100 * 0.045, `up to ${Math.max(...lags)} samples written, not yet sent`);
});

test("blob packing: int64 first sample, int32 rate, big-endian int16, clipped, NaN as silence, padded", () => {
    const special = [0.5, -0.5, 1.5, -2, NaN, 1, -1, 0];
    const device = startPcmDevice({ rate: 22050, signal: (k) => special[k % special.length] });
    device.play(200);
    const [block] = device.pcm();
    assert.equal(block.tags, ",hib");
    assert.equal(block.size, BLOCK * 2);
    assert.equal(block.length, block.blobEnd, "a 1024-byte blob needs no padding");
    assert.equal(block.length, 12 + 8 + 8 + 4 + 4 + 1024);
    const values = new Set(block.samples);
    assert.deepEqual([...values].sort((a, b) => a - b), [-32767, -16383, 0, 16384, 32767]);  // NaN: 0
    // numbers past 2^32 keep their high word (a device left running for a day at 48 kHz passes 2^32)
    const big = startPcmDevice({ rate: 48000 });
    big.play(100);
    big.context.pcm.next = 2 ** 33 + 5;
    big.play(40);
    const last = big.pcm().pop();
    assert.ok(last.firstSample >= 2 ** 33 + 5 && last.firstSample < 2 ** 33 + 5 + 4 * BLOCK, String(last.firstSample));
});

test("a stall longer than the buffer skips to the head and leaves a gap in the numbering", () => {
    const device = startPcmDevice();
    device.play(1000);
    const before = device.pcm();
    const lastBefore = before[before.length - 1].firstSample;
    // the script's thread is held up for 3 s while the audio thread keeps recording
    device.context.ticker.cancel();
    device.play(3000);
    device.context.ticker.repeat();
    device.play(500);
    const after = device.pcm().slice(before.length);
    const jump = after[0].firstSample - lastBefore - BLOCK;
    assert.ok(Math.abs(jump - 3 * 44100) < 0.1 * 44100, `a gap of ${jump} samples for 3 s held up`);
    assert.equal(device.context.pcm.skipped, jump);
    for (let i = 1; i < after.length; i++) {
        assert.equal(after[i].firstSample, after[i - 1].firstSample + BLOCK);
    }
    // what follows the gap is the mix as it is now, not what the buffer held before it went round
    const resumed = startOf(device, after[0].samples);
    const zero = startOf(device, before[0].samples);
    assert.equal(resumed - zero, after[0].firstSample, "the gap's size is the recording's own");
});

test("off stops record~ and the stream; on again starts at the head, numbered on by the time it was off", () => {
    const device = startPcmDevice();
    device.play(500);
    device.send("enable", 0);
    assert.equal(device.record.on, false);
    const before = device.pcm();
    device.play(1000);
    assert.equal(device.pcm().length, before.length, "nothing sent while off");
    device.send("enable", 1);
    assert.equal(device.record.on, true);
    device.play(500);
    const after = device.pcm().slice(before.length);
    const gap = after[0].firstSample - (before[before.length - 1].firstSample + BLOCK);
    assert.ok(Math.abs(gap - 44100) < 0.06 * 44100, `numbered on by ${gap} samples for 1 s off`);
});

test("a port or host change sends the next blocks to the new renderer", () => {
    const device = startPcmDevice();
    device.play(200);
    device.send("port", 9555);
    device.send("host", "text", "192.168.1.20");
    device.play(200);
    const last = device.pcm().pop();
    assert.deepEqual([last.address, last.port], ["192.168.1.20", 9555]);
});

test("without v8's dgram (the classic js object) it sends no PCM, says so once, and leaves record~ off", () => {
    const device = startPcmDevice({ withDgram: false });
    device.play(500);
    assert.equal(device.pcm().length, 0);
    assert.equal(device.record.on, false);
    assert.equal(device.posts.filter((p) => p.includes("/daw/pcm")).length, 1);
    const hello = device.osc().find((m) => m.address === "/daw/hello");
    assert.equal(hello.atoms[1].value, "1.1");
});

test("removing the device switches record~ off and closes the socket", () => {
    const device = startPcmDevice();
    device.play(100);
    device.send("notifydeleted");
    assert.equal(device.record.on, false);
    assert.equal(device.dgram.sockets[0].handle.closed, true);
});
