// Package storetest is the conformance suite every relay store passes: call
// Run from the store's own tests with a function that opens a fresh store.
package storetest
