package compile

import (
	"strings"
	"testing"

	"github.com/sluiceproxy/sluice/compile/model"
)

func TestHealthConfigDefaults(t *testing.T) {
	str := func(s string) *model.IntOrString { return &model.IntOrString{IsString: true, Str: s} }
	no := false
	for _, tc := range []struct {
		in      model.ServerHealthCheck
		want    string
		errPart string
	}{
		{model.ServerHealthCheck{Path: "/h"}, "30s 30s 5s true", ""},
		{model.ServerHealthCheck{Interval: &model.IntOrString{Int: 7}, Timeout: str("250ms"), FollowRedirects: &no}, "7s 7s 250ms false", ""},
		{model.ServerHealthCheck{Interval: str("2s"), UnhealthyInterval: str("500ms")}, "2s 500ms 5s true", ""},
		{model.ServerHealthCheck{Interval: str("soon")}, "", "invalid duration"},
		{model.ServerHealthCheck{Mode: "tcp"}, "", "invalid mode"},
	} {
		hc, err := healthConfig("f", &tc.in)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.msg, tc.errPart) {
				t.Errorf("%+v: err %v, want %q", tc.in, err, tc.errPart)
			}
			continue
		}
		got := hc.Interval.String() + " " + hc.UnhealthyInterval.String() + " " + hc.Timeout.String() + " " + map[bool]string{true: "true", false: "false"}[hc.FollowRedirects]
		if err != nil || got != tc.want {
			t.Errorf("%+v: got %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}
