package cms_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/scansign/scansign/verify/cms"
)

const fixtures = "../../testdata/interop/fixtures/"

func TestParseSignedDataShapes(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(fixtures + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	content := read("content.txt")
	for _, tc := range []struct {
		name     string
		gm       bool
		detached bool
		attrs    bool
		ski      bool
	}{
		{"bc-sm2-person-gm-attached.p7s", true, false, true, false},
		{"bc-sm2-person-std-detached-noattrs-ski.p7s", false, true, false, true},
		{"openssl-rsa-person-detached-keyid.p7s", false, true, true, true},
		{"openssl-rsa-person-attached-ber.p7s", false, false, true, false},
	} {
		sd, err := cms.ParseSignedData(read(tc.name))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if sd.GM != tc.gm || sd.Detached != tc.detached || len(sd.Signers) != 1 {
			t.Errorf("%s: gm %v detached %v signers %d", tc.name, sd.GM, sd.Detached, len(sd.Signers))
		}
		if !tc.detached && !bytes.Equal(sd.Content, content) {
			t.Errorf("%s: content %q", tc.name, sd.Content)
		}
		si := &sd.Signers[0]
		if si.HasSignedAttributes() != tc.attrs || (si.SubjectKeyID != nil) != tc.ski || (si.IssuerSerial != nil) == tc.ski {
			t.Errorf("%s: attrs %v ski %x", tc.name, si.HasSignedAttributes(), si.SubjectKeyID)
		}
		if tc.attrs && (si.MessageDigest == nil || si.SigningTime == nil || si.SignedAttrsDER[0] != 0x31) {
			t.Errorf("%s: signed attributes not read", tc.name)
		}
		if c := cms.SignerCertificate(si, sd.Certificates); c == nil {
			t.Errorf("%s: signer certificate not found", tc.name)
		}
	}
	// A PDF's /Contents is zero-padded: trailing zeros are fine, other
	// trailing bytes are not.
	good := read("bc-sm2-person-gm-detached.p7s")
	if _, err := cms.ParseSignedData(append(bytes.Clone(good), make([]byte, 4096)...)); err != nil {
		t.Errorf("zero padding: %v", err)
	}
	if _, err := cms.ParseSignedData(append(bytes.Clone(good), 0, 1)); !errors.Is(err, cms.ErrMalformed) {
		t.Errorf("trailing garbage: %v", err)
	}
	if _, err := cms.ParseSignedData(read("openssl-rsa-envelope.p7m")); !errors.Is(err, cms.ErrMalformed) {
		t.Errorf("an envelope is not SignedData: %v", err)
	}
}
