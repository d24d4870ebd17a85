// The page's script: connects to natsd with the official NATS JavaScript
// client over WebSocket, publishes and subscribes, makes one request to a
// responder that a Go client serves over TCP, shows the outcome in the DOM
// and the title, then reports what the DOM shows to the page's server
// (POST /result), where the Go test reads it.
import { wsconnect } from "@nats-io/nats-core";

const out = document.getElementById("result");

async function show(text) {
  out.textContent = text;
  document.title = text;
  await fetch("/result", { method: "POST", body: out.textContent });
}

async function run() {
  const params = new URLSearchParams(location.search);
  const server = params.get("ws");
  const subject = params.get("subject") || "browser.echo";
  if (!server) {
    throw new Error("no ?ws= server URL in the page address");
  }
  const nc = await wsconnect({ servers: server, timeout: 5000, reconnect: false });
  try {
    // Pub/sub through the server and back to this page.
    const sub = nc.subscribe("browser.loop", { max: 1 });
    nc.publish("browser.loop", "loop-ok");
    let loop = "";
    for await (const m of sub) {
      loop = m.string();
    }
    // Request/reply with the Go responder on the TCP side.
    const reply = await nc.request(subject, "hello from chromium", { timeout: 5000 });
    // A large text request and its echo: with permessage-deflate both
    // directions travel compressed (the browser's deflate, the server's).
    const big = "natsd over websocket from a browser. ".repeat(4000);
    const echo = await nc.request(subject, big, { timeout: 5000 });
    const bigOK = echo.string() === "echo: " + big ? "big-ok" : "big-mismatch:" + echo.data.length;
    await show("OK " + loop + " " + reply.string() + " " + bigOK);
  } finally {
    await nc.close();
  }
}

run().catch((err) => show("ERROR " + (err && err.message ? err.message : String(err))));
