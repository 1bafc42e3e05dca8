package phone

import (
	"bytes"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/relay/client"
)

// FuzzParsePayload: any scanned text is refused or gives a guid and a url.
func FuzzParsePayload(f *testing.F) {
	f.Add(`{"guid":"bf1af3f2-97b0-4b04-a054-ad7ba824eb70","url":"https://relay.example.cn","city":"P3401000001"}`)
	f.Add(`{"guid":1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePayload(s)
		if err == nil && (p.GUID == "" || p.URL == "") {
			t.Fatalf("accepted %q without guid or url", s)
		}
	})
}

// FuzzParseSealHash: whatever the seal control stored at status 4, the app
// reads a hash and, only for a well-formed cms extMessage, bytes to sign.
func FuzzParseSealHash(f *testing.F) {
	f.Add("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", `{"shape":"cms","toSign":"MQA="}`)
	f.Add("h", `{"shape":"p7hash"}`)
	f.Add("", "null")
	f.Fuzz(func(t *testing.T, value, ext string) {
		h := parseSealHash(client.Result{Status: 4, Value: &value, ExtMessage: &ext})
		if h.toSign != nil && len(h.toSign) == 0 {
			t.Fatal("empty bytes to sign")
		}
	})
}

// FuzzOpen: a decrypt message of any shape is opened or refused, never a
// panic, and what opens with one key does not open with another.
func FuzzOpen(f *testing.F) {
	f.Add("MIIBeQYKKoEcz1UGAQQCA6CCAWkwggFlAgEAMYHx")
	f.Add("04abcdef")
	f.Add("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n")
	ids := []*certs.Identity{testpki.Identity(f, "sm2-person"), testpki.Identity(f, "rsa-person")}
	f.Fuzz(func(t *testing.T, msg string) {
		for _, id := range ids {
			(&App{Identity: id}).open(msg)
		}
	})
}

// FuzzDecodeQRImage: any file is decoded or refused.
func FuzzDecodeQRImage(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeQRImage(bytes.NewReader(b))
	})
}
