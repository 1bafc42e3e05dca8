package certs

import (
	"errors"
	"math/big"
	"testing"
)

func TestNormalizeSerial(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abcd", "ABCD"},
		{"00ABcd", "ABCD"},
		{"00:ab:cd", "ABCD"},
		{"0x00ab cd", "ABCD"},
		{"0", "0"},
		{"000", "0"},
		{" 1F ", "1F"},
	} {
		got, err := NormalizeSerial(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeSerial(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "xyz", "12g4", "0x", string(make([]byte, 100))} {
		if _, err := NormalizeSerial(bad); !errors.Is(err, ErrBadSerial) {
			t.Errorf("NormalizeSerial(%q) err = %v; want ErrBadSerial", bad, err)
		}
	}
}

func TestSerialHex(t *testing.T) {
	n, _ := new(big.Int).SetString("00ab", 16)
	if got := SerialHex(n); got != "AB" {
		t.Errorf("SerialHex = %q", got)
	}
	if got := SerialHex(big.NewInt(-255)); got != "-FF" {
		t.Errorf("SerialHex(-255) = %q", got)
	}
}
