package watch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
)

// Manifests is a directory of Kubernetes YAML. It is not safe for
// concurrent use; Watch owns it once started.
type Manifests struct {
	Dir string
	FS  fs.FS // read instead of Dir when set (embedded examples)
	// Settle is how long a change must hold still before Watch reads
	// it, so that a file being rewritten in place (truncated, then
	// filled, as os.WriteFile and many editors do) is not read empty or
	// half written. Zero: DefaultSettle.
	Settle   time.Duration
	lastGood map[string]*model.Snapshot
	decoded  map[string]*decodedFile
	sum      [32]byte
}

// decodedFile is a file's last decode, reused while its bytes are the same:
// an edit to one file decodes that file only, and the objects of the others
// stay the same values, which lets the compiler reuse their routes.
type decodedFile struct {
	sum   [32]byte
	part  *model.Snapshot
	diags []model.Diagnostic
}

// Load reads every *.yaml / *.yml file. A file whose YAML does not parse
// keeps its previous good objects (if it had any) and yields an error
// diagnostic; objects that fail to decode are left out with a diagnostic.
func (m *Manifests) Load() (*model.Snapshot, []model.Diagnostic, error) {
	files, err := m.files()
	if err != nil {
		return nil, nil, err
	}
	if m.lastGood == nil {
		m.lastGood = map[string]*model.Snapshot{}
	}
	snap := &model.Snapshot{}
	var diags []model.Diagnostic
	seen := map[string]bool{}
	h := sha256.New()
	for _, f := range files {
		data, err := m.read(f)
		if err != nil {
			diags = append(diags, model.Diagnostic{Severity: model.Error, File: f, Message: err.Error()})
			continue
		}
		h.Write([]byte(f))
		h.Write(data)
		seen[f] = true
		part, d := m.decode(f, data)
		diags = append(diags, d...)
		if fileBroken(d) {
			if prev := m.lastGood[f]; prev != nil {
				diags = append(diags, model.Diagnostic{Severity: model.Error, File: f, Message: "file does not parse; its last good objects keep serving"})
				part = prev
			}
		} else {
			m.lastGood[f] = part
		}
		merge(snap, part)
	}
	for f := range m.lastGood {
		if !seen[f] {
			delete(m.lastGood, f)
		}
	}
	for f := range m.decoded {
		if !seen[f] {
			delete(m.decoded, f)
		}
	}
	copy(m.sum[:], h.Sum(nil))
	return snap, diags, nil
}

// decode returns the objects and diagnostics of file f: the last ones if
// its bytes did not change.
func (m *Manifests) decode(f string, data []byte) (*model.Snapshot, []model.Diagnostic) {
	if m.decoded == nil {
		m.decoded = map[string]*decodedFile{}
	}
	sum := sha256.Sum256(data)
	if c := m.decoded[f]; c != nil && c.sum == sum {
		return c.part, c.diags
	}
	part := &model.Snapshot{}
	d := Decode(f, data, part)
	m.decoded[f] = &decodedFile{sum: sum, part: part, diags: d}
	return part, d
}

// fileBroken: a document-level YAML error (no object named).
func fileBroken(d []model.Diagnostic) bool {
	for _, x := range d {
		if x.Severity == model.Error && x.Object == "" {
			return true
		}
	}
	return false
}

func merge(dst, src *model.Snapshot) {
	dst.IngressRoutes = append(dst.IngressRoutes, src.IngressRoutes...)
	dst.Services = append(dst.Services, src.Services...)
	dst.EndpointSlices = append(dst.EndpointSlices, src.EndpointSlices...)
	dst.Middlewares = append(dst.Middlewares, src.Middlewares...)
	dst.TraefikServices = append(dst.TraefikServices, src.TraefikServices...)
	dst.TLSOptions = append(dst.TLSOptions, src.TLSOptions...)
	dst.TLSStores = append(dst.TLSStores, src.TLSStores...)
	dst.ServersTransports = append(dst.ServersTransports, src.ServersTransports...)
	dst.Secrets = append(dst.Secrets, src.Secrets...)
	dst.ConfigMaps = append(dst.ConfigMaps, src.ConfigMaps...)
	dst.Nodes = append(dst.Nodes, src.Nodes...)
}

func (m *Manifests) fsys() fs.FS {
	if m.FS != nil {
		return m.FS
	}
	return os.DirFS(m.Dir)
}

func (m *Manifests) files() ([]string, error) {
	if fi, err := fs.Stat(m.fsys(), "."); err != nil || !fi.IsDir() {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("manifests directory %q does not exist", m.Dir)
		case err != nil:
			return nil, fmt.Errorf("manifests directory %q: %v", m.Dir, errors.Unwrap(err))
		}
		return nil, fmt.Errorf("manifests directory %q is not a directory", m.Dir)
	}
	var out []string
	err := fs.WalkDir(m.fsys(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("manifests directory %q: %s: %v", m.Dir, p, errors.Unwrap(err))
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (m *Manifests) read(name string) ([]byte, error) { return fs.ReadFile(m.fsys(), name) }

// Path returns the display path of a file of the directory.
func (m *Manifests) Path(f string) string { return filepath.Join(m.Dir, f) }

// DefaultSettle is Manifests.Settle's default.
const DefaultSettle = 100 * time.Millisecond

// Watch polls the directory every interval and calls onChange with a new
// snapshot whenever the files' contents change and have held still for
// Settle (a change still going on is looked at again), until ctx is done. The
// first snapshot is delivered at once. While the directory cannot be read
// it keeps trying every interval, but calls onChange with the error only
// when it changes, and again after 1 s, 2 s, 4 s ... up to a minute if it
// persists, so that a missing directory is said once, not four times a
// second.
func (m *Manifests) Watch(ctx context.Context, interval time.Duration, onChange func(*model.Snapshot, []model.Diagnostic, error)) {
	var rep errorReport
	snap, diags, err := m.Load()
	if err == nil || rep.due(err) {
		onChange(snap, diags, err)
	}
	last, lastStat := m.sum, m.statSum()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := m.statSum()
		if st == lastStat && st != ([32]byte{}) {
			continue
		}
		if !m.settled(ctx, st) {
			continue // lastStat unchanged: looked at again on the next tick
		}
		lastStat = st
		snap, diags, err := m.Load()
		if err != nil {
			if rep.due(err) {
				onChange(nil, nil, err)
			}
			continue
		}
		if !rep.failing && m.sum == last {
			continue
		}
		rep.failing = false
		last = m.sum
		onChange(snap, diags, err)
	}
}

// settled waits Settle and reports whether the directory's fingerprint
// is still st.
func (m *Manifests) settled(ctx context.Context, st [32]byte) bool {
	d := m.Settle
	if d == 0 {
		d = DefaultSettle
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
	}
	return m.statSum() == st
}

// errorReport decides when a persisting error is said again.
type errorReport struct {
	failing bool
	last    string
	next    time.Time
	backoff time.Duration
}

// due reports whether err is to be said now: a new error at once, the
// same one after a doubling backoff (1 s to a minute).
func (r *errorReport) due(err error) bool {
	now := time.Now()
	if r.failing && err.Error() == r.last {
		if now.Before(r.next) {
			return false
		}
		r.backoff = min(2*r.backoff, time.Minute)
	} else {
		r.backoff = time.Second
	}
	r.failing, r.last, r.next = true, err.Error(), now.Add(r.backoff)
	return true
}

// statSum fingerprints names, sizes and modification times, so an unchanged
// directory costs a walk, not a read of every file. Zero if unavailable.
func (m *Manifests) statSum() [32]byte {
	files, err := m.files()
	if err != nil {
		return [32]byte{}
	}
	h := sha256.New()
	for _, f := range files {
		fi, err := fs.Stat(m.fsys(), f)
		if err != nil {
			return [32]byte{}
		}
		fmt.Fprintf(h, "%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
