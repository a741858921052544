package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// Provider is the provider suffix of every name Sluice generates.
const Provider = "@kubernetescrd"

// Normalize is Traefik's provider.Normalize: split on every rune that is not
// a letter or a digit, drop empty pieces, join with '-'.
func Normalize(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return strings.Join(parts, "-")
}

// RouterKey is the router name (without provider) of a route: namespace,
// IngressRoute name and the first 10 bytes of sha256(match), normalized.
func RouterKey(namespace, name, match string) string {
	sum := sha256.Sum256([]byte(match))
	return Normalize(namespace + "-" + name + "-" + hex.EncodeToString(sum[:10]))
}
