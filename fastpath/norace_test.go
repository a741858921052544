//go:build !race

package fastpath

// allocsCounted: allocation counts mean something (not under -race).
const allocsCounted = true
