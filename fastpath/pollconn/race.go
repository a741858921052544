//go:build race

package pollconn

// useRaw is false in a race build: net's reads and writes tell the race
// detector that a write happens before the read of what it sent (tests
// and programs order their memory through the network), and the raw path
// cannot reach the variable that edge goes through.
const useRaw = false
