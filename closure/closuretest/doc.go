// Package closuretest holds small in-memory implementations of closure's
// interfaces (Store, Clock, Reporter, Directory) for tests of the domain
// and of the packages built on it. They are test doubles, never wired in
// production.
package closuretest
