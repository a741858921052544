package kubetest

import (
	"crypto/rand"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is a test host: a network namespace joined to this machine by a
// veth pair, with the namespace side holding non-loopback addresses
// 10.231.N.2 and up (N chosen per run). Traffic never leaves the machine.
type Host struct {
	Name   string // namespace name
	Subnet string // 10.231.N
	hostIf string
}

// NewHost creates a namespace with n addresses (Addr(0..n-1)).
func NewHost(n int) (*Host, error) {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%02x%02x", b[0], b[1])
	h := &Host{Name: "sluice-t" + id, Subnet: fmt.Sprintf("10.231.%d", b[0]), hostIf: "slh" + id}
	nsIf := "sln" + id
	steps := [][]string{
		{"netns", "add", h.Name},
		{"link", "add", h.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", h.Name},
		{"addr", "add", h.Subnet + ".1/24", "dev", h.hostIf},
		{"link", "set", h.hostIf, "up"},
		{"-n", h.Name, "link", "set", nsIf, "up"},
		{"-n", h.Name, "link", "set", "lo", "up"},
	}
	for i := 0; i < n; i++ {
		steps = append(steps, []string{"-n", h.Name, "addr", "add", h.Addr(i) + "/24", "dev", nsIf})
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			h.Close()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return h, nil
}

// Addr is the i-th address inside the namespace.
func (h *Host) Addr(i int) string { return fmt.Sprintf("%s.%d", h.Subnet, i+2) }

// Listen opens a TCP listener inside the namespace. The socket stays in
// the namespace; the calling goroutine's thread is switched there only
// for the socket call, then back.
func (h *Host) Listen(addr string) (net.Listener, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(self)
	target, err := unix.Open("/run/netns/"+h.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("setns %s: %w", h.Name, err)
	}
	ln, lerr := net.Listen("tcp4", addr)
	if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
		panic("cannot return to the test's network namespace: " + err.Error()) // the thread must not be reused
	}
	return ln, lerr
}

// Close removes the veth pair and the namespace.
func (h *Host) Close() {
	_ = exec.Command("ip", "link", "del", h.hostIf).Run()
	_ = exec.Command("ip", "netns", "del", h.Name).Run()
}
