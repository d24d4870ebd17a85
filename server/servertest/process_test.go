package servertest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestFreePortsAndConnectWhenReady(t *testing.T) {
	ports := servertest.FreePorts(t, 3)
	if len(ports) != 3 || ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("ports %v", ports)
	}
	s := servertest.Start(t, server.Options{Port: ports[0]})
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	servertest.WaitListening(t, addr)
	nc := servertest.ConnectWhenReady(t, "nats://"+addr)
	if nc.ConnectedServerId() != s.ID() {
		t.Fatalf("connected to %q", nc.ConnectedServerId())
	}
}

func TestStartProcessCapturesOutput(t *testing.T) {
	sh := "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skip("no /bin/sh")
	}
	logs := servertest.StartProcess(t, sh, "-c", "echo ready >&2; exec sleep 60")
	logs.WaitFor(t, "ready")
	if !strings.HasPrefix(logs.String(), "ready") {
		t.Fatalf("output %q", logs.String())
	}
}
