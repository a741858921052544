//go:build race

package pipeline

const allocsCounted = false
