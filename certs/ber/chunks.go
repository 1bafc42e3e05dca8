package ber

import "encoding/asn1"

// JoinChunks returns the bytes of an implicitly tagged OCTET STRING that
// arrived constructed: given the content of, say, CMS's encryptedContent
// [0] (which ToDER leaves as it is: only universal OCTET STRINGs are
// joined there), it concatenates the primitive OCTET STRING chunks inside.
// It stops at the first element that is not one; decryption then fails on
// the short ciphertext instead of reading past it.
func JoinChunks(content []byte) []byte {
	var out []byte
	for len(content) > 0 {
		var chunk []byte
		rest, err := asn1.Unmarshal(content, &chunk)
		if err != nil {
			return out
		}
		out = append(out, chunk...)
		content = rest
	}
	return out
}
