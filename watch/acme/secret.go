package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/util/retry"
)

// SecretPrefix marks a storage kept in a Kubernetes Secret (Sluice's own):
// "kubernetes:<namespace>/<name>".
const SecretPrefix = "kubernetes:"

// The Secret's keys: the storage in acme.json's format, and the
// challenges under way, so that whichever replica the CA reaches
// answers them.
const (
	secretDataKey       = "acme.json"
	secretChallengesKey = "challenges.json"
)

// parseSecretStorage splits "kubernetes:<namespace>/<name>".
func parseSecretStorage(v string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(strings.TrimPrefix(v, SecretPrefix), "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("storage %q: want %s<namespace>/<name>", v, SecretPrefix)
	}
	return ns, name, nil
}

// secretStore keeps the storage in one Secret (type Opaque, label
// app.kubernetes.io/managed-by=sluice). Writes are read-modify-write
// with the Secret's resourceVersion, retried on conflict, so replicas
// never lose each other's writes. A Secret holds up to 1 MiB: a few
// hundred certificates.
type secretStore struct {
	cs       objects[corev1.Secret]
	ns, name string
	mu       sync.Mutex
}

func (s *secretStore) check() error { return nil }

func (s *secretStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (s *secretStore) get() (*corev1.Secret, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	sec, err := s.cs.get(ctx, s.ns, s.name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return sec, err
}

func (s *secretStore) load() (map[string]*storedData, error) {
	sec, err := s.get()
	if err != nil || sec == nil {
		return map[string]*storedData{}, err
	}
	return decodeSecret(sec)
}

func decodeSecret(sec *corev1.Secret) (map[string]*storedData, error) {
	out := map[string]*storedData{}
	if data := sec.Data[secretDataKey]; len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("Secret %s/%s key %s: %w", sec.Namespace, sec.Name, secretDataKey, err)
		}
	}
	return out, nil
}

func (s *secretStore) update(resolver string, f func(*storedData)) error {
	return s.modify(func(sec *corev1.Secret) error {
		all, err := decodeSecret(sec)
		if err != nil {
			return err
		}
		if all[resolver] == nil {
			all[resolver] = &storedData{}
		}
		f(all[resolver])
		sec.Data[secretDataKey], err = json.MarshalIndent(all, "", "  ")
		return err
	})
}

// challenge adds (keyAuth != "") or removes a challenge under way.
func (s *secretStore) challenge(key, keyAuth string) error {
	return s.modify(func(sec *corev1.Secret) error {
		all := map[string]string{}
		if data := sec.Data[secretChallengesKey]; len(data) > 0 {
			_ = json.Unmarshal(data, &all) // a damaged list is replaced
		}
		if keyAuth == "" {
			delete(all, key)
		} else {
			all[key] = keyAuth
		}
		var err error
		sec.Data[secretChallengesKey], err = json.Marshal(all)
		return err
	})
}

// modify applies f to the Secret (created if missing) and writes it,
// again from a fresh read when another replica wrote in between.
func (s *secretStore) modify(f func(*corev1.Secret) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec, err := s.get()
		if err != nil {
			return err
		}
		create := sec == nil
		if create {
			sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "sluice"}}, Type: corev1.SecretTypeOpaque}
		}
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		if err := f(sec); err != nil {
			return err
		}
		ctx, cancel := s.ctx()
		defer cancel()
		if create {
			err = s.cs.create(ctx, s.ns, sec)
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("secrets"), s.name, err)
			}
			return err
		}
		return s.cs.update(ctx, s.ns, sec)
	})
}

// watch calls changed with the Secret each time it changes, until ctx
// ends (the watch is opened again when the API server closes it).
func (s *secretStore) watch(ctx context.Context, changed func(*corev1.Secret), logErr func(error)) {
	sel := fields.OneTermEqualSelector("metadata.name", s.name).String()
	for ctx.Err() == nil {
		w, err := s.cs.watch(ctx, s.ns, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			logErr(err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok {
				if sec, err := s.cs.from(u); err == nil {
					changed(sec)
				}
			}
		}
		w.Stop()
	}
}
