//go:build !race

package pipeline

// allocsCounted: allocation counts mean something (not under -race).
const allocsCounted = true
