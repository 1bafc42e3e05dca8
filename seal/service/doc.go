// Package service is the seal company service of the guide (二.3.1): the
// /api/getSeal handler that answers a certificate's valid seals and user data
// to the relay (or any caller holding one of its accounts).
//
// Requests are decoded the way the relay decodes its own: form-urlencoded
// bodies (any charset suffix, any letter case), multipart forms, JSON
// bodies, and the query string, body fields winning over query fields. The
// body is size-limited. Every business outcome is HTTP 200 with a JSON
// answer whose code and Chinese message are listed in package seal.
//
// Accounts come from configuration with PBKDF2-SHA256 password hashes
// (HashPassword makes one). A request's password is checked in constant time;
// an unknown account costs the same as a known one, so timing does not tell
// which names exist. PBKDF2 is deliberately slow, so a successful check is
// remembered as an HMAC under a per-process random key: the relay calling
// with the same credentials pays the derivation once, a guesser pays it every
// time. Failures are counted per (account, client address) and per client
// address, never per account alone: an account is shared by the relays that
// call the company, and a count of its own would let anyone who knows its
// name lock them all out by failing on purpose. The address counts stop a
// guesser, who has to come from somewhere. Past a limit, that pair or that
// address gets code 429 until the window passes.
package service
