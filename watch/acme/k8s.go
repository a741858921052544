package acme

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-acme/lego/v5/challenge/tlsalpn01"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
)

// With a storage in a Secret, several replicas share the resolvers: the
// holder of a Lease (coordination.k8s.io, named as the first such Secret,
// in its namespace) orders and renews; every replica watches the Secret
// and serves its certificates; the challenges under way are written to
// the Secret too, so that whichever replica the CA reaches answers them.

// challengeSettle is how long a challenge written to the Secret is given
// to reach the other replicas' watches before the CA is told to validate.
const challengeSettle = 2 * time.Second

// newStorage is the file at path, or the Secret "kubernetes:<ns>/<name>".
func (m *Manager) newStorage(v string, o Options) (storage, error) {
	if !strings.HasPrefix(v, SecretPrefix) {
		return &fileStore{path: v}, nil
	}
	ns, name, err := parseSecretStorage(v)
	if err != nil {
		return nil, err
	}
	if o.Kube == nil {
		return nil, errors.New("a storage in a Secret needs the Kubernetes provider (--providers.kubernetesCRD)")
	}
	dc, err := dynamic.NewForConfig(o.Kube)
	if err != nil {
		return nil, err
	}
	st := &secretStore{cs: newObjects[corev1.Secret](dc, corev1.SchemeGroupVersion, "secrets", "Secret"), ns: ns, name: name}
	m.secrets = append(m.secrets, st)
	if m.lease == nil {
		m.lease = &leaseCfg{cs: newObjects[coordinationv1.Lease](dc, coordinationv1.SchemeGroupVersion, "leases", "Lease"),
			ns: ns, name: name, identity: o.Identity}
		m.mayOrder = m.leading.Load
	}
	return st, nil
}

// startShared watches the Secrets and runs for the Lease until ctx ends.
func (m *Manager) startShared(ctx context.Context) {
	for _, st := range m.secrets {
		var last atomic.Pointer[[]byte]
		go st.watch(ctx, func(sec *corev1.Secret) { m.secretChanged(st, sec, &last) }, func(err error) {
			m.log.Error("ACME: cannot watch the storage Secret", "secret", st.ns+"/"+st.name, "error", err)
		})
	}
	if m.lease != nil {
		m.elected = make(chan struct{})
		go m.elect(ctx)
	}
}

// Stop waits (up to five seconds) for the Lease to be released once the
// context given to Start has ended, so that another replica takes over at
// once rather than when the Lease expires.
func (m *Manager) Stop() {
	if m.elected == nil {
		return
	}
	select {
	case <-m.elected:
	case <-time.After(5 * time.Second):
	}
}

// secretChanged serves the Secret's certificates (when they changed) and
// its challenges.
func (m *Manager) secretChanged(st *secretStore, sec *corev1.Secret, last *atomic.Pointer[[]byte]) {
	ch := map[string]string{}
	_ = json.Unmarshal(sec.Data[secretChallengesKey], &ch)
	m.shared.Store(&ch)
	data := sec.Data[secretDataKey]
	if prev := last.Load(); prev != nil && bytes.Equal(*prev, data) {
		return
	}
	all, err := decodeSecret(sec)
	if err != nil {
		m.log.Error("ACME: the storage Secret does not decode; its certificates are not reloaded", "error", err)
		return
	}
	last.Store(&data)
	for _, r := range m.resolvers {
		if r.store != storage(st) {
			continue
		}
		r.mu.Lock()
		r.certs = nil
		if d := all[r.cfg.Name]; d != nil {
			r.certs = d.Certificates
		}
		r.mu.Unlock()
	}
	m.rebuild()
	if m.onChange != nil {
		m.onChange()
	}
}

// wake makes a new leader look at what to order and renew.
func (m *Manager) wake() {
	for _, r := range m.resolvers {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	if m.onChange != nil {
		m.onChange()
	}
}

// sharedHTTP01 and sharedALPN are the challenges another replica wrote.
func (m *Manager) sharedHTTP01(host, token string) (string, bool) {
	if p := m.shared.Load(); p != nil {
		v, ok := (*p)[challengeKeyHTTP(host, token)]
		return v, ok
	}
	return "", false
}

func (m *Manager) sharedALPN(name string) *tls.Certificate {
	if p := m.shared.Load(); p != nil {
		if keyAuth, ok := (*p)[challengeKeyALPN(name)]; ok {
			if c, err := tlsalpn01.ChallengeCert(name, keyAuth); err == nil {
				return c
			}
		}
	}
	return nil
}

func challengeKeyHTTP(host, token string) string {
	return "http " + strings.ToLower(host) + " " + token
}
func challengeKeyALPN(name string) string { return "alpn " + strings.ToLower(name) }

// share writes a challenge to the resolver's Secret (keyAuth "": removes
// it) and, when added, gives the other replicas time to see it.
func share(r *resolver, key, keyAuth string) error {
	st, ok := r.store.(*secretStore)
	if !ok {
		return nil
	}
	if err := st.challenge(key, keyAuth); err != nil {
		return err
	}
	if keyAuth != "" {
		time.Sleep(challengeSettle)
	}
	return nil
}
