package leaf_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"natsd.dev/cluster/leaf"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// The CONNECT a remote sends, checked on the wire against a scripted hub:
// the .creds file's JWT and the nonce signed by its seed, the server's
// name, the bound account; after the hub's connect_info INFO, the loop
// detection subject and the local interest.
func TestLeafConnectWithCredentials(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln"
	creds := "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n\n" +
		"************************* IMPORTANT *************************\n\n" +
		"-----BEGIN USER NKEY SEED-----\n" + string(seed) + "\n------END USER NKEY SEED------\n"
	path := filepath.Join(t.TempDir(), "leaf.creds")
	if err := os.WriteFile(path, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ls, _, _ := startLeaf(t, server.Options{}, leaf.Options{Remotes: []*leaf.Remote{{
		URLs: []*url.URL{{Scheme: "nats-leaf", Host: ln.Addr().String()}}, Credentials: path,
	}}})
	syncSub(t, servertest.Connect(t, ls), "local.sub")
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(servertest.DefaultWait))
	const nonce = "bm9uY2Vub25jZQ"
	if _, err := nc.Write([]byte(`INFO {"server_id":"HUB","server_name":"hub","client_id":7,"nonce":"` + nonce +
		`","leafnode_urls":["127.0.0.1:1"],"headers":true,"info_on_connect":true}` + "\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	arg, ok := strings.CutPrefix(line, "CONNECT ")
	if !ok {
		t.Fatalf("first line %q, want CONNECT", line)
	}
	var ci map[string]any
	if err := json.Unmarshal([]byte(arg), &ci); err != nil {
		t.Fatal(err)
	}
	if ci["jwt"] != jwt || ci["name"] != ls.Name() || ci["remote_account"] != server.GlobalAccountName || ci["headers"] != true {
		t.Fatalf("CONNECT %s", arg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(ci["sig"].(string))
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := nkeys.FromPublicKey(pub)
	if err := vk.Verify([]byte(nonce), sig); err != nil {
		t.Fatalf("the signature does not verify the nonce: %v", err)
	}
	if _, err := nc.Write([]byte(`INFO {"server_id":"HUB","client_id":7,"leafnode_urls":["127.0.0.1:1"],"connect_info":true,"remote_account":"$G"}` + "\r\n")); err != nil {
		t.Fatal(err)
	}
	var lds, local bool
	for !(lds && local) {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the leaf's interest: %v", err)
		}
		lds = lds || strings.HasPrefix(line, "LS+ $LDS.")
		local = local || line == "LS+ local.sub\r\n"
	}
}
