// Package envelope implements the guide's encrypt and decrypt flows (三.3,
// 三.4): PKCS#7 EnvelopedData to a certificate — SM2 recipients with
// SM2 key encryption (1.2.156.10197.1.301.3, ASN.1 SM2Cipher) and SM4-CBC
// content, RSA recipients with PKCS#1 v1.5 key transport and AES-256-CBC —
// and raw SM2 public-key encryption (C1C3C2, also reading C1C2C3, a
// missing 0x04 prefix, and ASN.1). Decryption takes a private key, e.g.
// from certs.ParsePFX.
package envelope
