package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Traefik returns the real Traefik binary (the oracle of `make
// conformance`) and its CRD definitions, building them from the Go module
// proxy on first use (traefik-up.sh: several minutes, then cached in
// $SLUICE_TRAEFIK_CACHE or ~/.cache/traefik-oracle).
func Traefik() (bin, crds string, err error) {
	cache := os.Getenv("SLUICE_TRAEFIK_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "traefik-oracle")
	}
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command(filepath.Join(filepath.Dir(file), "traefik-up.sh"), cache)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("traefik-up.sh: %v\n%s", err, stderr.String())
	}
	bin = strings.TrimSpace(string(out))
	return bin, filepath.Join(filepath.Dir(bin), "crds.yml"), nil
}
