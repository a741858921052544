//go:build linux

package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const smapsSample = `00400000-00c2a000 r-xp 00000000 fd:01 1234                               /opt/sluice/bin/sluice
Size:               8360 kB
Rss:                5732 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw
00c2a000-01456000 r--p 0082a000 fd:01 1234                               /opt/sluice/bin/sluice
Rss:                6112 kB
Anonymous:             0 kB
01456000-014fb000 rw-p 01056000 fd:01 1234                               /opt/sluice/bin/sluice
Anonymous:           492 kB
014fb000-03562000 rw-p 00000000 00:00 0 
Anonymous:           240 kB
7f0000000000-7f0000010000 r--p 00010000 fd:01 1234                       /opt/sluice/bin/sluice
Anonymous:             4 kB
7f0000010000-7f0000020000 r--p 00000000 fd:01 99                         /opt/sluice/bin/sluice-other
Anonymous:             0 kB
7f0000020000-7f0000030000 r--p 00000000 fd:01 77                         /opt/with space/sluice
Anonymous:             0 kB
`

// TestCleanImageMappings: only the binary's read-only mappings with no
// anonymous (written) page are released, whatever the path holds.
func TestCleanImageMappings(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []imageMapping
	}{
		{"/opt/sluice/bin/sluice", []imageMapping{{0x400000, 0xc2a000}, {0xc2a000, 0x1456000}}},
		{"/opt/with space/sluice", []imageMapping{{0x7f0000020000, 0x7f0000030000}}},
		{"/nowhere", nil},
	} {
		got, err := cleanImageMappings(strings.NewReader(smapsSample), tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %x, want %x", tc.path, got, tc.want)
		}
	}
}

// TestReleaseImagePages: releasing this test binary's pages takes its
// resident file pages down, and the code that runs afterwards comes back
// (the test goes on running, and a table is still built and printed).
func TestReleaseImagePages(t *testing.T) {
	before := residentFileKB()
	if before < 0 {
		t.Skip("no RssFile in /proc/self/status")
	}
	n, err := releaseImagePages()
	if err != nil {
		t.Fatal(err)
	}
	after := residentFileKB()
	t.Logf("released %d MB of mappings; RssFile %d -> %d kB", n>>20, before, after)
	if n == 0 || after >= before/2 {
		t.Fatalf("RssFile %d -> %d kB after releasing %d bytes", before, after, n)
	}
	var sb strings.Builder
	if code := run([]string{"check", "../../examples"}, &sb, &sb); code != 0 || sb.Len() == 0 {
		t.Fatalf("check after the release: exit %d:\n%s", code, sb.String())
	}
}

// TestBinaryReleasesItsImagePages: the real binary, once its first table
// is published, unmaps its binary's pages: its resident file pages fall
// by more than a quarter (by two thirds or more on a quiet machine; under
// load the binary's other goroutines fault code back in before the
// measurement: 13068 -> 6964 kB was seen in CI), and after serving they
// stay below what they were.
func TestBinaryReleasesItsImagePages(t *testing.T) {
	p := startOneRoute(t)
	waitLog(t, p, 5*time.Second, "binary pages released")
	m := regexp.MustCompile(`binary pages released" bytes=(\d+) residentFileKBBefore=(\d+) residentFileKBAfter=(\d+)`).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no bytes and resident sizes in the release's log line:\n%s", p.log())
	}
	released, _ := strconv.Atoi(m[1])
	before, _ := strconv.Atoi(m[2])
	after, _ := strconv.Atoi(m[3])
	if released < 4<<20 || after >= before*3/4 {
		t.Fatalf("released %d bytes; resident file pages %d -> %d kB", released, before, after)
	}
	for range 100 {
		eventually(t, p.addr, "a.example", "/", 200, "alpha /")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`RssFile:\s+(\d+) kB`).FindSubmatch(b)
	if got == nil {
		t.Fatal("no RssFile in /proc/PID/status")
	}
	serving, _ := strconv.Atoi(string(got[1]))
	t.Logf("released %d kB of mappings; resident file pages %d -> %d kB, %d kB after 100 requests", released>>10, before, after, serving)
	if serving >= before*3/4 {
		t.Errorf("resident file pages %d kB after serving, against %d before the release", serving, before)
	}
}
