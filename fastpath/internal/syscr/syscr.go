package syscr

import (
	"bytes"
	"os"
	"strconv"
)

// Reads is the process's read syscall count (syscr in /proc/self/io); ok
// is false where the kernel does not give it.
func Reads() (n int, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, found := bytes.CutPrefix(line, []byte("syscr: ")); found {
			n, err := strconv.Atoi(string(v))
			return n, err == nil
		}
	}
	return 0, false
}
