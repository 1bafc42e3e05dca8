// Package cms reads and writes the PKCS#7 / CMS structures scansign deals
// in — SignedData and EnvelopedData — with both the standard PKCS#7 OIDs
// and the Chinese GM/T 0010 (GB/T 35275) ones. It is syntax only: it parses
// BER or DER into plain Go values (so callers can report a signer's digest
// algorithm, signing time and messageDigest without parsing again), finds a
// signer's certificate by issuer and serial or by subject key identifier,
// and encodes DER for the sign package. Checking signatures and trust is
// the verify package's job.
package cms
