package route

// trie is a radix trie over routing paths, flattened for lookup: nodes in
// breadth-first order with each node's children contiguous, and every
// candidate list a range of one shared array, so a lookup touches a few
// neighbouring cache lines instead of chasing pointers.
type trie struct {
	nodes []fnode
	cands []slot

	// direct is the route every lookup returns (for a host that does not
	// end in ".."), when the trie's shape decides it without a walk: one
	// node whose lists both start with the same trivial candidate, or
	// (directSlash, for paths starting with '/') a root whose only child
	// is such a leaf "/", as Host(`a`) && PathPrefix(`/`) builds.
	direct      *Route
	directSlash bool
}

// setDirect finds the trie's direct route, if it has one.
func (t *trie) setDirect() {
	root := &t.nodes[0]
	if r := t.leafRoute(root); r != nil {
		t.direct = r
		return
	}
	if root.indices == "/" {
		if child := &t.nodes[root.first]; child.label == "/" {
			t.direct = t.leafRoute(child)
			t.directSlash = t.direct != nil
		}
	}
}

// leafRoute is the route n's lists both start with, when n has no
// children and that first candidate has nothing left to check.
func (t *trie) leafRoute(n *fnode) *Route {
	if len(n.indices) != 0 || n.exact[0] == n.exact[1] || n.prefix[0] == n.prefix[1] {
		return nil
	}
	e, p := &t.cands[n.exact[0]], &t.cands[n.prefix[0]]
	if !e.trivial || !p.trivial || e.route != p.route {
		return nil
	}
	return e.route
}

// slot is a candidate as the lookup sees it: the route, and whether the
// candidate has nothing left to check (then the Cand is not touched).
type slot struct {
	route   *Route
	cand    *Cand
	trivial bool
}

// fnode is a flattened node. prefix[0]:prefix[1] in cands holds the
// candidates for a path that has this node's full key as a strict prefix;
// exact[0]:exact[1] those for a path equal to the key. Both are sorted by
// rank.
type fnode struct {
	label   string
	indices string // first byte of each child's label
	first   int32  // nodes index of the first child
	prefix  [2]int32
	exact   [2]int32
}

// lookup walks the trie iteratively (httprouter's walk loop).
func (t *trie) lookup(path []byte) []slot {
	n := &t.nodes[0]
walk:
	for {
		if len(path) == 0 {
			return t.cands[n.exact[0]:n.exact[1]]
		}
		c := path[0]
		for i := 0; i < len(n.indices); i++ {
			if n.indices[i] != c {
				continue
			}
			child := &t.nodes[int(n.first)+i]
			if len(path) < len(child.label) || string(path[:len(child.label)]) != child.label {
				break
			}
			path = path[len(child.label):]
			n = child
			continue walk
		}
		return t.cands[n.prefix[0]:n.prefix[1]]
	}
}

// node is the build-time trie node.
type node struct {
	label    string
	indices  []byte
	children []*node
	prefix   []*Cand
	exact    []*Cand

	ownPrefix, ownExact []*Cand
}

// flatten lays the finalized trie out breadth-first.
func flatten(root *node) *trie {
	t := &trie{}
	queue := []*node{root}
	t.nodes = append(t.nodes, fnode{})
	for i := 0; i < len(queue); i++ {
		n := queue[i]
		f := fnode{label: n.label, indices: string(n.indices), first: int32(len(queue))}
		f.prefix = t.addCands(n.prefix)
		f.exact = t.addCands(n.exact)
		t.nodes[i] = f
		for _, c := range n.children {
			queue = append(queue, c)
			t.nodes = append(t.nodes, fnode{})
		}
	}
	return t
}

// addCands appends a list to the arena, sharing the previous range when it
// is the same list (a child inheriting its parent's prefix list unchanged).
func (t *trie) addCands(list []*Cand) [2]int32 {
	end := int32(len(t.cands))
	if n := int32(len(list)); n <= end && sameCands(t.cands[end-n:], list) {
		return [2]int32{end - n, end}
	}
	for _, c := range list {
		t.cands = append(t.cands, slot{route: c.Route, cand: c, trivial: c.Tree == nil && len(c.check) == 0})
	}
	return [2]int32{end, int32(len(t.cands))}
}

func sameCands(a []slot, b []*Cand) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].cand != b[i] {
			return false
		}
	}
	return true
}

func buildTrie(es []*Entry) *trie {
	root := &node{}
	for _, e := range es {
		n := root.insert(e.PathKey)
		if e.PathKind == PathExact {
			n.ownExact = append(n.ownExact, &e.Cand)
		} else {
			n.ownPrefix = append(n.ownPrefix, &e.Cand)
		}
	}
	root.finalize(nil)
	t := flatten(root)
	t.setDirect()
	return t
}

func (n *node) insert(key string) *node {
	for len(key) > 0 {
		i := indexOf(n.indices, key[0])
		if i < 0 {
			child := &node{label: key}
			n.indices = append(n.indices, key[0])
			n.children = append(n.children, child)
			return child
		}
		child := n.children[i]
		l := commonPrefix(child.label, key)
		if l < len(child.label) {
			mid := &node{label: child.label[:l], indices: []byte{child.label[l]}, children: []*node{child}}
			child.label = child.label[l:]
			n.children[i] = mid
			child = mid
		}
		n, key = child, key[l:]
	}
	return n
}

func (n *node) finalize(inherited []*Cand) {
	n.prefix = mergeCands(inherited, n.ownPrefix)
	n.exact = mergeCands(n.prefix, n.ownExact)
	n.ownPrefix, n.ownExact = nil, nil
	for _, c := range n.children {
		c.finalize(n.prefix)
	}
}

func mergeCands(a, b []*Cand) []*Cand {
	return mergeByRank(a, b, func(c *Cand) int { return c.Route.Rank })
}

func indexOf(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
