package ber

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"testing"
)

func TestToDER(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 300)
	derLong, _ := asn1.Marshal(long)
	for _, tc := range []struct {
		name    string
		in, out []byte
	}{
		{"DER unchanged", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}},
		{"indefinite sequence", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}},
		{"non-minimal length", []byte{0x04, 0x81, 0x02, 0xaa, 0xbb}, []byte{0x04, 0x02, 0xaa, 0xbb}},
		{"constructed octet string", []byte{0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x02, 0xbb, 0xcc, 0x00, 0x00}, []byte{0x04, 0x03, 0xaa, 0xbb, 0xcc}},
		{"nested indefinite in explicit tag", []byte{0xa0, 0x80, 0x24, 0x80, 0x04, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00}, []byte{0xa0, 0x03, 0x04, 0x01, 0x01}},
		{"long definite", derLong, derLong},
	} {
		got, rest, err := ToDER(tc.in)
		if err != nil || len(rest) != 0 || !bytes.Equal(got, tc.out) {
			t.Errorf("%s: ToDER = %x, rest %x, %v; want %x", tc.name, got, rest, err, tc.out)
		}
	}
}

func TestToDERRest(t *testing.T) {
	der, rest, err := ToDER([]byte{0x05, 0x00, 0x00, 0x00, 0x00})
	if err != nil || !bytes.Equal(der, []byte{0x05, 0x00}) || !bytes.Equal(rest, []byte{0, 0, 0}) {
		t.Fatalf("got %x %x %v", der, rest, err)
	}
}

func TestToDERRejects(t *testing.T) {
	deep := bytes.Repeat([]byte{0x30, 0x80}, MaxDepth+2)
	for name, in := range map[string][]byte{
		"empty":                {},
		"truncated":            {0x30},
		"length past end":      {0x04, 0x05, 0x01},
		"indefinite primitive": {0x04, 0x80, 0x00, 0x00},
		"missing end":          {0x30, 0x80, 0x02, 0x01, 0x05},
		"five length octets":   {0x04, 0x85, 0, 0, 0, 0, 1, 0},
		"too deep":             deep,
		"child runs past":      {0x30, 0x03, 0x02, 0x05, 0x01},
		"huge high tag":        {0x1f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00},
	} {
		if _, _, err := ToDER(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err = %v, want ErrSyntax", name, err)
		}
	}
}

func FuzzToDER(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x05})
	f.Fuzz(func(t *testing.T, in []byte) {
		der, _, err := ToDER(in)
		if err != nil {
			return
		}
		// DER output must be a fixed point.
		again, rest, err := ToDER(der)
		if err != nil || len(rest) != 0 || !bytes.Equal(again, der) {
			t.Fatalf("ToDER not idempotent: %x -> %x -> %x (%v)", in, der, again, err)
		}
	})
}

func TestJoinChunks(t *testing.T) {
	// The content of a constructed [0]: OCTET STRING "ab", OCTET STRING "c".
	if got := JoinChunks([]byte{0x04, 0x02, 'a', 'b', 0x04, 0x01, 'c'}); string(got) != "abc" {
		t.Fatalf("got %q", got)
	}
	// A non-OCTET STRING element ends the join.
	if got := JoinChunks([]byte{0x04, 0x01, 'a', 0x02, 0x01, 0x05, 0x04, 0x01, 'b'}); string(got) != "a" {
		t.Fatalf("got %q", got)
	}
}
