// End-to-end driver: m4l/barlight.js under the Max stand-in, in real time, sending real OSC over
// UDP (udpsend stand-in) to a renderer at 127.0.0.1:PORT and listening for its /renderer/ack on the
// reply port (udpreceive stand-in). Scripted Live session: hello, play from beat 8 for ~1 s with
// the song-time observer firing every 60 ms, stop, seek to beat 20, switch to 3/4, move a macro,
// turn the device off. Meanwhile an audio-thread stand-in (every 5 ms) has record~ loop a 440 Hz tone
// (0.5 * sin(2 pi 440 k / 44100), sample k of the recording) into the device's buffer~ and reports
// its sync ramp every 20 ms, and the script streams it as /daw/pcm through a real UDP socket.
// Prints one JSON line with what the device showed and sent.
//
// Usage: node tests/m4l/e2e_drive.js PORT
"use strict";

const dgram = require("node:dgram");
const {
    loadDevice, RealClock, ScriptedLive, UdpSendStandin, MaxBuffer, RecordStandin, DgramStandin,
} = require("./max_standin.js");

const RATE = 44100;
const BUFFER_NAME = "1042barlight_pcm";

const rendererPort = Number(process.argv[2]);
if (!(rendererPort > 0)) {
    console.error("usage: node e2e_drive.js PORT");
    process.exit(2);
}

function readOscString(buffer, offset) {
    const end = buffer.indexOf(0, offset);
    return [buffer.toString("utf8", offset, end), (Math.floor((end - offset) / 4) + 1) * 4 + offset];
}

// udpreceive: decode an OSC message into a Max message (selector = address).
function decodeOsc(buffer) {
    let [address, offset] = readOscString(buffer, 0);
    let tags;
    [tags, offset] = readOscString(buffer, offset);
    const args = [];
    for (const tag of tags.slice(1)) {
        if (tag === "i") {
            args.push(buffer.readInt32BE(offset));
            offset += 4;
        } else if (tag === "f") {
            args.push(buffer.readFloatBE(offset));
            offset += 4;
        } else if (tag === "s") {
            let text;
            [text, offset] = readOscString(buffer, offset);
            args.push(text);
        }
    }
    return { address, args };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
    const live = new ScriptedLive();
    live.setSong("tempo", 120);
    live.addCue("Intro", 0);
    live.addCue("Drop", 32);

    const udpsend = new UdpSendStandin("127.0.0.1", 9420);
    const receiver = dgram.createSocket("udp4");
    let device = null;
    const listening = [];
    receiver.on("message", (datagram) => {
        const { address, args } = decodeOsc(datagram);
        device.send(address, ...args);
    });
    const buffer = new MaxBuffer(2 * RATE, RATE);
    const record = new RecordStandin(buffer);
    const pcmSocket = new DgramStandin({ real: true });
    const onOutlet = (message) => {
        if (message.outlet === 6) {
            record.on = Boolean(message.selector);
        } else if (message.outlet === 0 || message.outlet === 1) {
            udpsend.message(message.selector, message.args);
        } else if (message.outlet === 2 && message.selector === "port") {
            listening.push(new Promise((resolve) => receiver.bind(message.args[0], "127.0.0.1", resolve)));
        }
    };
    device = loadDevice({ clock: new RealClock(), live, onOutlet, buffers: { [BUFFER_NAME]: buffer },
        dgram: pcmSocket });
    device.send("port", rendererPort);
    device.send("init", BUFFER_NAME);
    await Promise.all(listening);
    const audioStartMs = Date.now();
    let lastSnapshotMs = 0;
    const audioThread = setInterval(() => {  // the audio thread: record~ writes what the clock says is due
        const due = Math.floor((Date.now() - audioStartMs) * RATE / 1000) - record.written;
        const samples = [];
        for (let k = record.written; k < record.written + due; k++) {
            samples.push(0.5 * Math.sin(2 * Math.PI * 440 * k / RATE));
        }
        record.write(samples);
        if (Date.now() - lastSnapshotMs >= 20) {
            lastSnapshotMs = Date.now();
            device.send("pcmhead", record.sync());
        }
    }, 5);
    await sleep(300);

    live.setSong("current_song_time", 8.0);
    live.setSong("is_playing", 1);
    const playStartMs = Date.now();
    const observer = setInterval(() => {
        live.setSong("current_song_time", 8.0 + (Date.now() - playStartMs) / 500.0);  // 120 BPM
    }, 60);
    await sleep(1000);
    clearInterval(observer);
    live.setSong("is_playing", 0);
    const playedMs = Date.now() - playStartMs;
    live.setSong("current_song_time", 20.0);
    live.setSong("signature_numerator", 3);
    device.send("macro", 3, 0.625);
    await sleep(300);

    const hello = device.osc().find((m) => m.address === "/daw/hello");
    const summary = {
        session_id: hello.atoms[2].value,
        reply_port: hello.atoms[3].value,
        status_texts: device.outputs.filter((m) => m.outlet === 4).map((m) => m.args[0]),
        sent: device.osc().length,
        played_ms: playedMs,
    };
    clearInterval(audioThread);
    const isPcm = (d) => d.bytes.toString("utf8", 0, 8) === "/daw/pcm";
    summary.pcm_sent = pcmSocket.sent.filter(isPcm).length;
    summary.pcm_hellos = pcmSocket.sent.length - summary.pcm_sent;  // the PCM socket's own hellos
    summary.pcm_skipped = device.context.pcm.skipped;
    summary.recorded = record.written;
    device.send("enable", 0);
    await udpsend.close();
    await pcmSocket.close();
    receiver.close();
    device.send("notifydeleted");
    console.log(JSON.stringify(summary));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
