// Package testutil holds what several packages' tests repeat: a synchronised
// buffer, polling for a condition, the skip-or-fail-in-CI rule, a PostgreSQL
// schema per test, a store of each kind (ForEachStore), the process CPU time
// for benchmarks, the signature vectors in testdata/vectors, flows parsed
// in tests (MustParse, given ivr.Parse) and an address that refuses
// connections (ClosedAddr).
//
// It imports no package of this module, so every package's own tests
// (package auth, package store, ...) can use it without an import cycle.
// Only tests import it.
package testutil
