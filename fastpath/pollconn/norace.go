//go:build !race

package pollconn

// useRaw: reads and writes are made with RawSyscall (raw.go).
const useRaw = true
