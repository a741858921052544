package api

import (
	"net/url"
	"testing"
)

// Traefik's pagination: per_page 100, page 1; a page past the end is an
// error, the next page 1 on the last.
func TestPage(t *testing.T) {
	for _, c := range []struct {
		q                string
		n                int
		start, end, next int
		err              bool
	}{
		{"", 3, 0, 3, 1, false},
		{"per_page=2", 3, 0, 2, 2, false},
		{"per_page=2&page=2", 3, 2, 3, 1, false},
		{"per_page=2&page=3", 3, 0, 0, 0, true},
		{"page=1", 0, 0, 0, 1, false},
		{"per_page=0", 3, 0, 0, 0, true},
		{"per_page=x", 3, 0, 0, 0, true},
	} {
		q, _ := url.ParseQuery(c.q)
		start, end, next, err := page(q, c.n)
		if (err != nil) != c.err || err == nil && (start != c.start || end != c.end || next != c.next) {
			t.Errorf("%q of %d: %d %d %d %v", c.q, c.n, start, end, next, err)
		}
	}
}

// Traefik's searchCriterion on routers.
func TestKeepRouter(t *testing.T) {
	r := Router{Name: "ns-app-1@kubernetescrd", Rule: "Host(`App.example`)", Service: "ns-app-1", Status: "enabled", Middlewares: []string{"ns-strip"}}
	for q, want := range map[string]bool{
		"search=app.EXAMPLE": true, "search=nothing": false, "status=Enabled": true, "status=disabled": false,
		"serviceName=ns-app-1@kubernetescrd": true, "serviceName=ns-app-2": false, "middlewareName=ns-strip": true,
		"middlewareName=other": false, "search=ns-app&status=enabled": true,
	} {
		v, _ := url.ParseQuery(q)
		if got := len(filter([]Router{r}, v, keepRouter)) == 1; got != want {
			t.Errorf("%s: kept %v, want %v", q, got, want)
		}
	}
}
