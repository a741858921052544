package acme

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The storage file as Traefik writes it (its local_store_test): Sluice
// writes the same bytes and reads Traefik's.
func TestStorageFileIsTraefiks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.json")
	s := &fileStore{path: path}
	if err := s.update("test", func(d *storedData) { d.Account = &account{Email: "some@email.com"} }); err != nil {
		t.Fatal(err)
	}
	want := `{
  "test": {
    "Account": {
      "Email": "some@email.com",
      "Registration": null,
      "PrivateKey": null
    },
    "Certificates": null
  }
}`
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Fatalf("written:\n%s\nwant Traefik's:\n%s", got, want)
	}
	traefiks := `{"le": {"Account": {"Email": "a@b.c", "Registration": {"body": {"status": "valid"}, "uri": "https://ca/acct/1"}},
	  "Certificates": [{"domain": {"main": "a.example", "sans": ["b.example"]}, "certificate": "Y2VydA==", "key": "a2V5", "Store": "default"}]}}`
	os.WriteFile(path, []byte(traefiks), 0o600)
	all, err := s.load()
	if err != nil {
		t.Fatal(err)
	}
	le := all["le"]
	if le.Account.Email != "a@b.c" || le.Account.GetRegistration().Location != "https://ca/acct/1" || le.Account.GetRegistration().Status != "valid" ||
		len(le.Certificates) != 1 || strings.Join(le.Certificates[0].Domain.names(), " ") != "a.example b.example" ||
		string(le.Certificates[0].Certificate) != "cert" || string(le.Certificates[0].Key) != "key" || le.Certificates[0].Store != "default" {
		t.Fatalf("read %+v", le)
	}
}

// A storage file others may read is refused, with Traefik's message.
func TestStorageFileTooOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.json")
	os.WriteFile(path, []byte("{}"), 0o644)
	_, err := New([]ResolverConfig{{Name: "le", Storage: path, TLSChallenge: true}}, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "permissions 644 for "+path+" are too open, please use 600") {
		t.Fatalf("error %v", err)
	}
}

// Traefik's getCertificateRenewDurations, by certificatesDuration.
func TestRenewDurations(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		hours            int
		period, interval time.Duration
	}{
		{365 * 24, 120 * day, 7 * day}, {2160, 30 * day, day}, {2159, 10 * day, 12 * time.Hour}, {720, 10 * day, 12 * time.Hour},
		{144, 2 * day, 2 * time.Hour}, {143, 6 * time.Hour, 10 * time.Minute}, {24, 6 * time.Hour, 10 * time.Minute},
		{23, 20 * time.Minute, time.Minute}, {1, 20 * time.Minute, time.Minute},
	} {
		if p, i := renewDurations(c.hours); p != c.period || i != c.interval {
			t.Errorf("%d hours: %v, %v; want %v, %v", c.hours, p, i, c.period, c.interval)
		}
	}
}

// What a resolver refuses before ordering.
func TestResolverChecks(t *testing.T) {
	for _, c := range []struct {
		cfg  ResolverConfig
		want string
	}{
		{ResolverConfig{}, "ACME challenge not specified"},
		{ResolverConfig{DNS: DNSChallenge{Provider: "nope"}}, `dnsChallenge.provider "nope" is not one Sluice has (it has cloudflare, digitalocean, exec, httpreq, route53; a binary built with -tags alldns has all of lego's)`},
		{ResolverConfig{TLSChallenge: true, EABKid: "k"}, "eab needs both kid and hmacEncoded"},
		{ResolverConfig{HTTPEntryPoint: "web"}, ""},
	} {
		err := c.cfg.Check()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	http := ResolverConfig{Name: "le", HTTPEntryPoint: "web"}
	if err := http.canIssue("*.a.example"); err == nil || !strings.Contains(err.Error(), "only dnsChallenge can validate it") {
		t.Errorf("wildcard on HTTP-01: %v", err)
	}
	dns := ResolverConfig{DNS: DNSChallenge{Provider: "exec"}}
	if dns.canIssue("*.a.example") != nil || http.canIssue("a.example") != nil {
		t.Error("refused a name it can issue")
	}
}
