package verify

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/verify/cms"
)

// Expected is what the signer was asked to sign. Make one with
// ExpectBytes, ExpectText, ExpectHashHex, ExpectDigest or ExpectStream; the
// zero value expects nothing (an attached signature is then checked on its
// own and Result.ContentChecked is false).
type Expected struct {
	set     bool
	data    []byte
	hashHex string
	hashRaw []byte
	digest  func(cms.Digest) ([]byte, error)
	stream  func(io.Writer) error
}

// MaxHashHexLen bounds a hash given as hex (SHA-512 is 128 characters).
const MaxHashHexLen = 256

// ExpectBytes expects exactly these bytes to have been signed.
func ExpectBytes(b []byte) Expected { return Expected{set: true, data: b} }

// ExpectText expects the UTF-8 bytes of s (a login nonce, a message).
func ExpectText(s string) Expected { return ExpectBytes([]byte(s)) }

// ExpectHashHex expects a hash given as hex (the guide's seal and revoke
// flows: "文件 hash 值"). Apps sign it in one of three ways and all are
// accepted, the result saying which: the hex text itself (FormHexText), its
// raw bytes (FormRawHash), or the hash used as the message digest
// (FormPrehashed).
func ExpectHashHex(h string) (Expected, error) {
	h = strings.TrimSpace(h)
	if h == "" || len(h) > MaxHashHexLen || len(h)%2 != 0 {
		return Expected{}, fmt.Errorf("verify: a hash given as hex has an even number of digits, at most %d", MaxHashHexLen)
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return Expected{}, errors.New("verify: the hash is not hexadecimal")
	}
	return Expected{set: true, hashHex: h, hashRaw: raw}, nil
}

// ExpectDigest is for detached signatures over content the caller cannot
// hand over but can hash (a PDF's byte ranges): digest is called with the
// signature's digest algorithm and returns the content's digest. SM2
// signatures without signed attributes cannot be checked this way (their
// digest covers the signer's Z value first): use ExpectStream for those.
func ExpectDigest(digest func(alg cms.Digest) ([]byte, error)) Expected {
	return Expected{set: true, digest: digest}
}

// ExpectStream is for detached signatures over content the caller streams:
// write is called (possibly more than once) to write the content into the
// hash the verifier provides.
func ExpectStream(write func(w io.Writer) error) Expected {
	return Expected{set: true, stream: write}
}

// IsSet reports whether an expectation was given.
func (e Expected) IsSet() bool { return e.set }

// candidate is one way the signed content may match the expectation.
type candidate struct {
	form      ContentForm
	data      []byte // the content, or (prehashed) the digest itself
	prehashed bool
	digest    func(cms.Digest) ([]byte, error)
	stream    func(io.Writer) error
}

var errNeedContent = errors.New("an SM2 signature without signed attributes covers SM3(Z‖content): it cannot be checked from a digest; stream the content instead")

func (e Expected) candidates() []candidate {
	switch {
	case e.digest != nil:
		return []candidate{{form: FormBytes, digest: e.digest}}
	case e.stream != nil:
		return []candidate{{form: FormBytes, stream: e.stream}}
	case e.hashRaw != nil:
		out := []candidate{{form: FormHexText, data: []byte(e.hashHex)}}
		for _, v := range []string{strings.ToLower(e.hashHex), strings.ToUpper(e.hashHex)} {
			if v != e.hashHex {
				out = append(out, candidate{form: FormHexText, data: []byte(v)})
			}
		}
		return append(out,
			candidate{form: FormRawHash, data: e.hashRaw},
			candidate{form: FormPrehashed, data: e.hashRaw, prehashed: true})
	case e.set:
		return []candidate{{form: FormBytes, data: e.data}}
	}
	return nil
}

// sum is the digest of the candidate content under d.
func (c candidate) sum(d cms.Digest) ([]byte, error) {
	switch {
	case c.prehashed:
		if len(c.data) != d.Size() {
			return nil, errors.New("length does not fit the digest")
		}
		return c.data, nil
	case c.digest != nil:
		v, err := c.digest(d)
		if err != nil {
			return nil, err
		}
		if len(v) != d.Size() {
			return nil, fmt.Errorf("the digest given is %d bytes, %v needs %d", len(v), d, d.Size())
		}
		return v, nil
	case c.stream != nil:
		h := d.New()
		if err := c.stream(h); err != nil {
			return nil, err
		}
		return h.Sum(nil), nil
	}
	return d.Sum(c.data), nil
}

// sm2E is the value e an SM2 signature over the candidate content signs:
// SM3(Z‖content), or the digest itself when prehashed.
func (c candidate) sm2E(pub *ecdsa.PublicKey, uid []byte) ([]byte, error) {
	switch {
	case c.prehashed:
		if len(c.data) != 32 {
			return nil, errors.New("not an SM3 digest")
		}
		return c.data, nil
	case c.digest != nil:
		return nil, errNeedContent
	}
	h, err := sm2.NewHashWithUserID(pub, uid)
	if err != nil {
		return nil, err
	}
	if c.stream != nil {
		if err := c.stream(h); err != nil {
			return nil, err
		}
	} else {
		h.Write(c.data)
	}
	return h.Sum(nil), nil
}

// matchAttached compares attached content with the expectation.
func (e Expected) matchAttached(content []byte, d cms.Digest) (ContentForm, bool, error) {
	switch {
	case e.digest != nil || e.stream != nil:
		want, err := candidate{digest: e.digest, stream: e.stream}.sum(d)
		if err != nil {
			return "", false, err
		}
		return FormBytes, bytes.Equal(want, d.Sum(content)), nil
	case e.hashRaw != nil:
		if strings.EqualFold(string(content), e.hashHex) {
			return FormHexText, true, nil
		}
		if bytes.Equal(content, e.hashRaw) {
			return FormRawHash, true, nil
		}
		return "", false, nil
	}
	return FormBytes, bytes.Equal(content, e.data), nil
}
