//go:build linux

package main

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The binary is 25 MB, most of it client-go, and starting up (package
// initialisation, decoding and compiling the first configuration) runs
// through a good part of it. Each page touched maps 64 KiB around it
// (the kernel's fault-around), so after start-up about 12 MB of the
// binary are in the process's RSS, where serving needs a few MB. Once the
// first table is published, and after a connection burst, Sluice unmaps
// the binary's read-only pages (MADV_DONTNEED); those it uses come back on
// first touch (a minor fault; no disk read while the page cache holds
// the file). The page cache itself is the kernel's and is not changed;
// only what this process maps, and so its RSS, is.
//
// A private file mapping's pages that were written (relocations in a
// dynamically linked binary) are anonymous copies that MADV_DONTNEED would
// lose, so a mapping with any anonymous page, or writable, is left alone.

// releaseImage is releaseImagePages, logged at debug level with the
// resident file-backed memory (kB) before and after.
func releaseImage(log *slog.Logger) {
	before := residentFileKB()
	n, err := releaseImagePages()
	log.Debug("binary pages released", "bytes", n, "residentFileKBBefore", before, "residentFileKBAfter", residentFileKB(), "error", err)
}

// residentFileKB is RssFile from /proc/self/status; -1 if unknown.
func residentFileKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			if n, err := strconv.Atoi(kB(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

// kB is the number in a /proc "   123 kB" value.
func kB(v string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
}

// imageMapping is one mapping of the binary that may be released.
type imageMapping struct{ start, end uint64 }

// releaseImagePages unmaps the binary's clean read-only mappings and
// returns how many bytes they span.
func releaseImagePages() (uint64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	maps, err := cleanImageMappings(f, exe)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, m := range maps {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED); e != 0 {
			return n, os.NewSyscallError("madvise", e)
		}
		n += m.end - m.start
	}
	return n, nil
}

// cleanImageMappings reads smaps and returns the mappings of path that
// are not writable and hold no anonymous page.
func cleanImageMappings(r io.Reader, path string) ([]imageMapping, error) {
	var out []imageMapping
	var cur imageMapping
	ok := false // cur is path's, read-only, no anonymous page seen yet
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m, perms, file, isHeader := smapsHeader(line); isHeader {
			if ok {
				out = append(out, cur)
			}
			cur, ok = m, file == path && !strings.Contains(perms, "w")
			continue
		}
		if v, found := strings.CutPrefix(line, "Anonymous:"); found && ok {
			ok = kB(v) == "0"
		}
	}
	if ok {
		out = append(out, cur)
	}
	return out, sc.Err()
}

// smapsHeader parses a mapping's first line in smaps:
// "start-end perms offset dev inode   path" (the path may hold spaces).
func smapsHeader(line string) (m imageMapping, perms, path string, ok bool) {
	var f [5]string
	rest := line
	for i := range f {
		f[i], rest, _ = strings.Cut(strings.TrimLeft(rest, " "), " ")
	}
	lo, hi, found := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if !found || err1 != nil || err2 != nil || f[4] == "" {
		return m, "", "", false
	}
	return imageMapping{start, end}, f[1], strings.TrimSpace(rest), true
}
