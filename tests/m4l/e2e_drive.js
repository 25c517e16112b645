// End-to-end driver: m4l/barlight.js under the Max stand-in, in real time, sending real OSC over
// UDP (udpsend stand-in) to a renderer at 127.0.0.1:PORT and listening for its /renderer/ack on the
// reply port (udpreceive stand-in). Scripted Live session: hello, play from beat 8 for ~1 s with
// the song-time observer firing every 60 ms, stop, seek to beat 20, switch to 3/4, move a macro,
// turn the device off. Prints one JSON line with what the device showed.
//
// Usage: node tests/m4l/e2e_drive.js PORT
"use strict";

const dgram = require("node:dgram");
const { loadDevice, RealClock, ScriptedLive, UdpSendStandin } = require("./max_standin.js");

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
    const onOutlet = (message) => {
        if (message.outlet === 0 || message.outlet === 1) {
            udpsend.message(message.selector, message.args);
        } else if (message.outlet === 2 && message.selector === "port") {
            listening.push(new Promise((resolve) => receiver.bind(message.args[0], "127.0.0.1", resolve)));
        }
    };
    device = loadDevice({ clock: new RealClock(), live, onOutlet });
    device.send("port", rendererPort);
    device.send("init");
    await Promise.all(listening);
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
    device.send("enable", 0);
    await udpsend.close();
    receiver.close();
    device.send("notifydeleted");
    console.log(JSON.stringify(summary));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
