package route

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestHostTable: every key put is found with its trie, through growth and
// probe chains (a table sized for one key takes 3,000), whether it sits in
// its slot or (longer than inlineKey) in the arena; keys not put, a key's
// prefix or extension, and the empty key are not found; each visits every
// key once; a nil table finds nothing.
func TestHostTable(t *testing.T) {
	h := newHostTable(1, 0)
	tries := map[string]*trie{}
	for i := range 3000 {
		k := fmt.Sprintf("h%d.example.com", i)
		switch i % 3 {
		case 1:
			k = fmt.Sprintf("a-host-name-longer-than-a-slot-holds-%d.example.com", i)
		case 2:
			k = fmt.Sprintf("%032d", i) // exactly inlineKey bytes
		}
		tries[k] = &trie{}
		h.put(k, tries[k])
	}
	if len(h.keys) == 0 {
		t.Fatal("no key went to the arena")
	}
	if full(len(h.tries), len(h.slots)) {
		t.Fatalf("%d keys in %d slots: more than 4/5 full", len(h.tries), len(h.slots))
	}
	for k, want := range tries {
		if s := h.get([]byte(k)); s == nil || h.trie(s) != want {
			t.Fatalf("get(%q) = %v, want its trie", k, s)
		}
	}
	for _, k := range []string{"h3000.example.com", "h0.example.co", "h0.example.comm", "", "H0.example.com",
		"a-host-name-longer-than-a-slot-holds-1.example.co", "a-host-name-longer-than-a-slot-holds-3001.example.com", fmt.Sprintf("%032d", 1)} {
		if s := h.get([]byte(k)); s != nil {
			t.Fatalf("get(%q) found a slot", k)
		}
	}
	var seen []string
	h.each(func(k string, tr *trie) {
		if tries[k] != tr {
			t.Fatalf("each gave %q with another trie", k)
		}
		seen = append(seen, k)
	})
	sort.Strings(seen)
	if distinct := len(slices.Compact(slices.Clone(seen))); len(seen) != len(tries) || distinct != len(seen) {
		t.Fatalf("each visited %d keys (%d distinct), want %d", len(seen), distinct, len(tries))
	}
	var none *hostTable
	if none.get([]byte("a")) != nil {
		t.Fatal("a nil table found a key")
	}
	none.each(func(string, *trie) { t.Fatal("a nil table has keys") })
}

// TestHostTableAllocatesNothing: a lookup, hit or miss, allocates nothing.
func TestHostTableAllocatesNothing(t *testing.T) {
	h := newHostTable(2, 0)
	h.put("a.example", &trie{})
	hit, miss := []byte("a.example"), []byte("b.example")
	if n := testing.AllocsPerRun(100, func() { _, _ = h.get(hit), h.get(miss) }); n != 0 {
		t.Fatalf("%v allocations per lookup", n)
	}
}

// TestHostTableProbeLengths: at bench/'s 100k hosts (4/5 full), the
// average key sits within three slots of its home and none more than 32
// away (plain linear probing left one 137 slots away).
func TestHostTableProbeLengths(t *testing.T) {
	h := newHostTable(100000, 0)
	for i := range 100000 {
		h.put(fmt.Sprintf("r%06d.bench.local", i), &trie{})
	}
	mask := uint64(len(h.slots) - 1)
	sum, most := uint64(0), uint64(0)
	for i := range h.slots {
		if s := &h.slots[i]; s.tix != 0 {
			d := (uint64(i) - s.hash) & mask
			sum, most = sum+d, max(most, d)
			if s.hash != xxhash.Sum64(h.keyOf(s)) {
				t.Fatalf("slot %d holds %q with another key's hash", i, h.keyOf(s))
			}
		}
	}
	if mean := float64(sum) / 100000; mean > 3 || most > 32 {
		t.Fatalf("keys sit %.2f slots from home on average, %d at most; want at most 3 and 32", mean, most)
	}
}
