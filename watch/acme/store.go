package acme

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	legoacme "github.com/go-acme/lego/v5/acme"
)

// The storage file is Traefik's acme.json: an object keyed by resolver
// name, each with the ACME account and the certificates, []byte fields in
// base64 (encoding/json's way, as Traefik's). Field names and casing are
// Traefik's, so the file carries over both ways.

// storedData is one resolver's part of the file.
type storedData struct {
	Account      *account
	Certificates []*certAndStore
}

// account is Traefik's Account: the key is PKCS #1 DER of an RSA key.
type account struct {
	Email        string
	Registration *resource
	PrivateKey   []byte
}

type resource struct {
	Body legoacme.Account `json:"body"`
	URI  string           `json:"uri,omitempty"`
}

// GetEmail, GetRegistration and GetPrivateKey make account lego's
// registration.User.
func (a *account) GetEmail() string { return a.Email }

func (a *account) GetRegistration() *legoacme.ExtendedAccount {
	if a.Registration == nil {
		return nil
	}
	return &legoacme.ExtendedAccount{Account: a.Registration.Body, Location: a.Registration.URI}
}

func (a *account) GetPrivateKey() crypto.Signer {
	k, err := x509.ParsePKCS1PrivateKey(a.PrivateKey)
	if err != nil {
		return nil
	}
	return k
}

// domain is Traefik's types.Domain.
type domain struct {
	Main string   `json:"main,omitempty"`
	SANs []string `json:"sans,omitempty"`
}

func (d domain) names() []string { return append([]string{d.Main}, d.SANs...) }

// certAndStore is Traefik's CertAndStore: PEM certificate chain and key.
type certAndStore struct {
	Domain      domain `json:"domain,omitempty"`
	Certificate []byte `json:"certificate,omitempty"`
	Key         []byte `json:"key,omitempty"`
	Store       string
}

// fileStore is the storage file; writes replace it atomically (a
// temporary file renamed), mode 0600 as Traefik requires.
type fileStore struct {
	path string
	mu   sync.Mutex
}

// check is Traefik's CheckFile: a storage file others may read or write
// is refused.
func (s *fileStore) check() error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("permissions %o for %s are too open, please use 600", fi.Mode().Perm(), s.path)
	}
	return nil
}

func (s *fileStore) load() (map[string]*storedData, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(data) == 0 {
		return map[string]*storedData{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]*storedData{}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return out, nil
}

// update reads the file, lets f change resolver's part, and writes it
// back (the other resolvers' parts kept as they were).
func (s *fileStore) update(resolver string, f func(*storedData)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return err
	}
	d := all[resolver]
	if d == nil {
		d = &storedData{}
		all[resolver] = d
	}
	f(d)
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// newAccount is Traefik's NewAccount: a 4,096-bit RSA key.
func newAccount(email string, gen func() (*rsa.PrivateKey, error)) (*account, error) {
	k, err := gen()
	if err != nil {
		return nil, err
	}
	return &account{Email: email, PrivateKey: x509.MarshalPKCS1PrivateKey(k)}, nil
}
