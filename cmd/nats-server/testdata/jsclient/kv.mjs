// Key-Value and Object Store through the official JavaScript clients for
// Node (@nats-io/kv and @nats-io/obj, versions pinned in package.json).
// Run by TestJetStreamJSClientKVE2E:
//
//   node kv.mjs nats://127.0.0.1:PORT
//
// Every step asserts what the server answered; on success the script
// prints one line "RESULT <json>" with the values the Go test checks again,
// and exits 0. Any failure exits 1 with the error on stderr.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { Kvm, KvWatchInclude } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";

const url = process.argv[2];
if (!url) {
  console.error("usage: node kv.mjs <server url>");
  process.exit(2);
}

async function all(it) {
  const out = [];
  for await (const v of it) out.push(v);
  return out;
}

// watcher wraps a watch iterator so entries can be taken in several
// steps (breaking out of for-await would stop it).
function watcher(qi) {
  return { qi, it: qi[Symbol.asyncIterator]() };
}

// take reads n entries from a watcher, failing after 5 seconds.
async function take(w, n) {
  const out = [];
  for (let k = 0; k < n; k++) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch: got ${out.length} of ${n} entries in 5s`)), 5000);
    });
    const r = await Promise.race([w.it.next(), timeout]);
    clearTimeout(timer);
    assert.ok(!r.done, "watch ended");
    out.push(r.value);
  }
  return out;
}

async function expectFail(fn, what) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail(`expected ${what} to fail`);
}

async function main() {
  const nc = await connect({ servers: url, timeout: 5000 });
  const result = {};
  try {
    const kvm = new Kvm(nc);
    const kv = await kvm.create("settings", { history: 5 });

    // put, get, get by revision.
    const r1 = await kv.put("color", "red");
    assert.equal(r1, 1);
    const r2 = await kv.put("color", "blue");
    assert.equal(r2, 2);
    const e = await kv.get("color");
    assert.equal(e.string(), "blue");
    assert.equal(e.revision, 2);
    assert.equal(e.operation, "PUT");
    assert.equal((await kv.get("color", { revision: r1 })).string(), "red");
    assert.equal(await kv.get("missing"), null);

    // create and update with CAS.
    await expectFail(() => kv.create("color", "green"), "create over an existing key");
    const r3 = await kv.create("size", "L");
    await expectFail(() => kv.update("size", "M", r1), "update with a stale revision");
    const r4 = await kv.update("size", "M", r3);
    assert.equal((await kv.get("size")).string(), "M");
    assert.equal(r4, 4);

    // A watcher started now sees the current values, then later changes.
    const w = watcher(await kv.watch());
    const initial = await take(w, 2);
    assert.deepEqual(initial.map((x) => [x.key, x.string()]).sort(), [["color", "blue"], ["size", "M"]]);
    // (the client marks the last initial value as an update too)
    assert.equal(initial[0].isUpdate, false);

    // delete and purge.
    await kv.delete("size");
    const del = await kv.get("size");
    assert.equal(del.operation, "DEL");
    const r5 = await kv.create("size", "S"); // create works over a deleted key
    assert.ok(r5 > r4);
    await kv.put("tmp", "x");
    await kv.purge("tmp");
    assert.equal((await kv.get("tmp")).operation, "PURGE");

    const later = await take(w, 4);
    assert.deepEqual(later.map((x) => [x.key, x.operation]), [
      ["size", "DEL"],
      ["size", "PUT"],
      ["tmp", "PUT"],
      ["tmp", "PURGE"],
    ]);
    assert.ok(later.every((x) => x.isUpdate));
    w.qi.stop();

    // keys, with and without filters.
    await kv.put("a.1", "1");
    await kv.put("a.2", "2");
    await kv.put("b.1", "3");
    const keys = (await all(await kv.keys())).sort();
    assert.deepEqual(keys, ["a.1", "a.2", "b.1", "color", "size"]);
    assert.deepEqual((await all(await kv.keys("a.*"))).sort(), ["a.1", "a.2"]);
    assert.deepEqual((await all(await kv.keys(["a.1", "b.*"]))).sort(), ["a.1", "b.1"]);
    result.keys = keys;

    // history of one key.
    const h = await all(await kv.history({ key: "color" }));
    assert.deepEqual(h.map((x) => x.string()), ["red", "blue"]);
    result.history = h.length;

    // watch with history, ignoring deletes, on several keys.
    const wh = watcher(await kv.watch({ key: "color", include: KvWatchInclude.AllHistory }));
    assert.deepEqual((await take(wh, 2)).map((x) => x.string()), ["red", "blue"]);
    wh.qi.stop();
    const wu = watcher(await kv.watch({ key: ["a.*", "size"], include: KvWatchInclude.UpdatesOnly, ignoreDeletes: true }));
    await kv.delete("a.1");
    await kv.put("b.1", "ignored");
    await kv.put("a.2", "new");
    const upd = await take(wu, 1);
    assert.equal(upd[0].key, "a.2");
    assert.equal(upd[0].string(), "new");
    assert.ok(upd[0].isUpdate);
    wu.qi.stop();

    const st = await kv.status();
    assert.equal(st.bucket, "settings");
    assert.equal(st.history, 5);
    result.values = st.values;
    const buckets = (await all(kvm.list())).map((s) => s.bucket);
    assert.deepEqual(buckets, ["settings"]);


    // Per-key TTL: a bucket with limit markers, a key created with a TTL,
    // and the MaxAge marker a watcher sees when it expires.
    const tkv = await kvm.create("ttl", { markerTTL: 1000 });
    assert.equal((await tkv.status()).markerTTL, 1000);
    const tw = watcher(await tkv.watch({ include: KvWatchInclude.UpdatesOnly }));
    await tkv.create("short", "lived", "1s");
    const expiry = await take(tw, 2);
    assert.deepEqual(expiry.map((x) => [x.key, x.operation]), [["short", "PUT"], ["short", "PURGE"]]);
    tw.qi.stop();
    // (get returns the marker, as an entry whose operation is PURGE)
    assert.equal((await tkv.get("short")).operation, "PURGE");
    result.ttl_ops = expiry.map((x) => x.operation);

    // Object store: a multi-chunk object, read back and its digest checked.
    const objm = new Objm(nc);
    const os = await objm.create("files");
    const big = new Uint8Array(300 * 1024 + 5);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const oi = await os.putBlob({ name: "big.bin", options: { max_chunk_size: 64 * 1024 } }, big);
    assert.equal(oi.size, big.length);
    assert.equal(oi.chunks, 5);
    const back = await os.getBlob("big.bin");
    assert.deepEqual(back, big);
    const res = await os.get("big.bin");
    await all(res.data); // drain; error is a promise resolved at the end
    assert.ok(!(await res.error), "digest or read error");
    await os.putBlob({ name: "small" }, new TextEncoder().encode("hi"));
    await os.link("alias", await os.info("small"));
    assert.equal(new TextDecoder().decode(await os.getBlob("alias")), "hi");
    const listed = (await os.list()).map((x) => x.name).sort();
    assert.deepEqual(listed, ["alias", "big.bin", "small"]);
    await os.delete("small");
    assert.equal((await os.info("small")).deleted, true);
    assert.equal(await os.get("small"), null);
    const ost = await os.seal();
    assert.equal(ost.sealed, true);
    result.objects = listed;
    result.object_size = oi.size;
  } finally {
    await nc.close();
  }
  console.log("RESULT " + JSON.stringify(result));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
