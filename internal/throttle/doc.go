// Package throttle counts failed logins so that guessing a secret is slow:
// the relay's grantToken and the seal company service's /api/getSeal both
// refuse a key (an account, a client address, or both in one key) once it
// has failed max times within a window, until that window ends.
//
// ClientAddr is the address part of those keys, the same for both.
package throttle
