package route

// node is a radix trie node over routing paths. prefix holds the candidates
// for a path that has this node's full key as a strict or equal prefix;
// exact those for a path equal to the key. Both are sorted by rank.
type node struct {
	label    string
	indices  []byte // first byte of each child's label
	children []*node
	prefix   []*Cand
	exact    []*Cand

	ownPrefix, ownExact []*Cand // build only
}

// lookup walks the trie iteratively (httprouter's walk loop).
func (n *node) lookup(path []byte) []*Cand {
walk:
	for {
		if len(path) == 0 {
			return n.exact
		}
		c := path[0]
		for i, x := range n.indices {
			if x != c {
				continue
			}
			child := n.children[i]
			if len(path) < len(child.label) || string(path[:len(child.label)]) != child.label {
				return n.prefix
			}
			path = path[len(child.label):]
			n = child
			continue walk
		}
		return n.prefix
	}
}

func buildTrie(es []*Entry) *node {
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
	return root
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
