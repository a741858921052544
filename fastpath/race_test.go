//go:build race

package fastpath

const allocsCounted = false
