// Package testclock is a settable time source for tests of code that takes
// a `now func() time.Time` (the relay, the seal service, the verifier), so
// expiry and throttling windows are tested by moving the clock rather than
// by sleeping.
package testclock
