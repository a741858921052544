// Command vulngate reads govulncheck's JSON on standard input and fails
// when the code calls a vulnerable function of a module (make vulncheck).
// The Go standard library's vulnerabilities are listed with the Go release
// that fixes them, without failing: the toolchain is the machine's, and
// moving to another is a change of its own (the Makefile's GOTOOLCHAIN).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	called := map[string]string{} // osv -> "module version (fixed in ...)"
	stdlib := map[string]string{}
	messages := 0
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: reading govulncheck's output:", err)
			os.Exit(2)
		}
		messages++
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // imported or required, never called
		}
		top := f.Trace[0]
		line := fmt.Sprintf("%s %s (fixed in %s), reached through %s.%s", top.Module, top.Version, f.FixedVersion, top.Package, top.Function)
		if top.Module == "stdlib" {
			stdlib[f.OSV] = line
		} else {
			called[f.OSV] = line
		}
	}
	if messages == 0 {
		fmt.Fprintln(os.Stderr, "vulngate: govulncheck said nothing (did it run?)")
		os.Exit(2)
	}
	for _, set := range []struct {
		title string
		m     map[string]string
	}{{"standard library (fixed by a newer Go; not failing)", stdlib}, {"modules", called}} {
		ids := make([]string, 0, len(set.m))
		for id := range set.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		fmt.Printf("%d called vulnerabilities in the %s\n", len(ids), set.title)
		for _, id := range ids {
			fmt.Printf("  %s: %s\n", id, set.m[id])
		}
	}
	if len(called) > 0 {
		os.Exit(1)
	}
}
