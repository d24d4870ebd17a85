// JetStream through the official JavaScript clients for Node
// (@nats-io/transport-node and @nats-io/jetstream, versions pinned in
// package.json). Run by TestJetStreamJSClientE2E:
//
//   node test.mjs nats://127.0.0.1:PORT
//
// Every step asserts what the server answered; on success the script
// prints one line "RESULT <json>" with the values the Go test checks again,
// and exits 0. Any failure exits 1 with the error on stderr.

import assert from "node:assert/strict";
import { connect, headers } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";

const url = process.argv[2];
if (!url) {
  console.error("usage: node test.mjs <server url>");
  process.exit(2);
}

// All names to one array, whatever the Lister pages.
async function all(lister) {
  const out = [];
  for await (const v of lister) out.push(v);
  return out;
}

// expectApiError runs fn and checks it fails with JetStream error code.
async function expectApiError(fn, errCode) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof JetStreamApiError, `want JetStreamApiError, got ${err}`);
    assert.equal(err.code, errCode, `error code for ${err.message}`);
    return err;
  }
  assert.fail(`expected JetStream error ${errCode}`);
}

async function main() {
  const nc = await connect({ servers: url, timeout: 5000 });
  const result = { server_version: nc.info?.version };
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const js = jetstream(nc, { timeout: 5000 });

    // Create a file stream with an explicit configuration.
    const si = await jsm.streams.add({
      name: "ORDERS",
      subjects: ["orders.>"],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs: 1000,
      duplicate_window: 60 * 1_000_000_000, // nanoseconds
      allow_direct: true,
      description: "from node",
    });
    assert.equal(si.config.name, "ORDERS");
    assert.deepEqual(si.config.subjects, ["orders.>"]);
    assert.equal(si.config.storage, StorageType.File);
    assert.equal(si.config.max_msgs, 1000);
    assert.equal(si.config.duplicate_window, 60_000_000_000);
    assert.equal(si.state.messages, 0);
    await jsm.streams.add({ name: "AUDIT", subjects: ["audit.*"], storage: StorageType.Memory });

    // Publish with message IDs: a repeat inside the window is a duplicate.
    const a1 = await js.publish("orders.new", "one", { msgID: "m1" });
    assert.equal(a1.stream, "ORDERS");
    assert.equal(a1.seq, 1);
    assert.ok(!a1.duplicate);
    const dup = await js.publish("orders.new", "one again", { msgID: "m1" });
    assert.equal(dup.seq, 1);
    assert.equal(dup.duplicate, true);

    // Expectations that hold are stored ...
    const h = headers();
    h.set("Order-Kind", "express");
    const a2 = await js.publish("orders.express", "two", {
      msgID: "m2",
      headers: h,
      expect: { streamName: "ORDERS", lastSequence: 1, lastMsgID: "m1" },
    });
    assert.equal(a2.seq, 2);
    const a3 = await js.publish("orders.new", "three", {
      expect: { lastSubjectSequence: 1 },
    });
    assert.equal(a3.seq, 3);
    // ... and those that do not are refused with upstream's error codes.
    await expectApiError(() => js.publish("orders.new", "x", { expect: { lastSequence: 1 } }), 10071);
    await expectApiError(() => js.publish("orders.new", "x", { expect: { lastMsgID: "nope" } }), 10070);
    await expectApiError(() => js.publish("orders.new", "x", { expect: { streamName: "OTHER" } }), 10060);
    await expectApiError(() => js.publish("orders.new", "x", { expect: { lastSubjectSequence: 1 } }), 10071);
    for (let i = 0; i < 7; i++) await js.publish(`orders.bulk.${i}`, `bulk ${i}`);

    // Stream info, with subjects.
    const info = await jsm.streams.info("ORDERS", { subjects_filter: ">" });
    assert.equal(info.state.messages, 10);
    assert.equal(info.state.first_seq, 1);
    assert.equal(info.state.last_seq, 10);
    assert.equal(info.state.num_subjects, 9);
    assert.equal(info.state.subjects["orders.new"], 2);
    result.info = { messages: info.state.messages, last_seq: info.state.last_seq, num_subjects: info.state.num_subjects };

    // Get messages by sequence and by last subject, with their headers.
    const m2 = await jsm.streams.getMessage("ORDERS", { seq: 2 });
    assert.equal(m2.subject, "orders.express");
    assert.equal(m2.seq, 2);
    assert.equal(m2.string(), "two");
    assert.equal(m2.header.get("Order-Kind"), "express");
    assert.equal(m2.header.get("Nats-Msg-Id"), "m2");
    const last = await jsm.streams.getMessage("ORDERS", { last_by_subj: "orders.new" });
    assert.equal(last.seq, 3);
    assert.equal(last.string(), "three");
    const direct = await jsm.direct.getMessage("ORDERS", { seq: 1 });
    assert.equal(direct.string(), "one");
    assert.equal(direct.seq, 1);
    result.get = { seq: m2.seq, subject: m2.subject, data: m2.string(), kind: m2.header.get("Order-Kind") };

    // Delete one message: it is gone, the others stay.
    assert.equal(await jsm.streams.deleteMessage("ORDERS", 2), true);
    // (the client turns "no message found", 10037, into null)
    assert.equal(await jsm.streams.getMessage("ORDERS", { seq: 2 }), null);
    assert.equal((await jsm.streams.info("ORDERS")).state.messages, 9);

    // Update the stream: a lower max_msgs with discard old trims it.
    const up = await jsm.streams.update("ORDERS", { ...info.config, max_msgs: 5 });
    assert.equal(up.config.max_msgs, 5);
    assert.equal(up.state.messages, 5);
    assert.equal(up.state.last_seq, 10);

    // Purge by subject, then all of it.
    const p1 = await jsm.streams.purge("ORDERS", { filter: "orders.bulk.6" });
    assert.equal(p1.success, true);
    assert.equal(p1.purged, 1);
    const p2 = await jsm.streams.purge("ORDERS");
    assert.equal(p2.purged, 4);
    const after = await jsm.streams.info("ORDERS");
    assert.equal(after.state.messages, 0);
    assert.equal(after.state.first_seq, 11);
    result.purged = p1.purged + p2.purged;

    // Names and list, with and without a subject filter.
    const names = (await all(jsm.streams.names())).sort();
    assert.deepEqual(names, ["AUDIT", "ORDERS"]);
    assert.deepEqual(await all(jsm.streams.names("audit.x")), ["AUDIT"]);
    assert.equal(await jsm.streams.find("orders.anything"), "ORDERS");
    const listed = (await all(jsm.streams.list())).map((s) => s.config.name).sort();
    assert.deepEqual(listed, ["AUDIT", "ORDERS"]);
    result.names = names;

    // Account info sees both streams.
    const ai = await jsm.getAccountInfo();
    assert.equal(ai.streams, 2);
    assert.ok(ai.api.total > 0);
    result.account = { streams: ai.streams, level: ai.api.level ?? 0 };

    // Delete a stream; it is not found afterwards.
    assert.equal(await jsm.streams.delete("AUDIT"), true);
    await expectApiError(() => jsm.streams.info("AUDIT"), 10059);
    assert.deepEqual(await all(jsm.streams.names()), ["ORDERS"]);
    assert.equal((await jsm.getAccountInfo()).streams, 1);
  } finally {
    await nc.close();
  }
  console.log("RESULT " + JSON.stringify(result));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
