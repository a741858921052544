// Package watch holds the sources of model.Snapshot.
//
// Manifests reads a directory of Kubernetes YAML (multi-document, any
// number of files), keeps the kinds Sluice knows and ignores the others,
// and watches the directory for edits, reading a change once it has held
// still for Manifests.Settle (a file rewritten in place is not read empty
// or half written). Decode errors are diagnostics naming
// the file, the object, the field and the reason; an object that fails to
// decode is left out, everything else is kept. watch imports only
// compile/model among Sluice's packages.
package watch
