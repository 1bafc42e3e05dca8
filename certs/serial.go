package certs

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// MaxSerialHexLen bounds a serial given as text: RFC 5280 allows 20 octets;
// some CAs exceed it, so accept up to 32 octets and refuse anything longer.
const MaxSerialHexLen = 64

// ErrBadSerial is returned for a serial number that is not hexadecimal text.
var ErrBadSerial = errors.New("certs: serial number is not hexadecimal")

// SerialHex prints a certificate serial the way CAs print it and the way
// every lookup in scansign keys it: uppercase hex, no leading zeros, no
// separators. A zero serial prints as "0".
func SerialHex(serial *big.Int) string {
	if serial == nil {
		return ""
	}
	if serial.Sign() < 0 {
		// Negative serials violate RFC 5280 but exist in the wild; keep the
		// sign so two different certificates never collide.
		return "-" + strings.ToUpper(new(big.Int).Neg(serial).Text(16))
	}
	return strings.ToUpper(serial.Text(16))
}

// NormalizeSerial turns a serial as a caller typed or sent it ("00ab:CD",
// "0x00ABCD", "ab cd") into the SerialHex form ("ABCD"), so lookups match
// whatever case, separators or leading zeros the caller used.
func NormalizeSerial(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") {
		t = t[2:]
	}
	t = strings.NewReplacer(":", "", " ", "", "-", "").Replace(t)
	if t == "" || len(t) > MaxSerialHexLen {
		return "", fmt.Errorf("%w: %q", ErrBadSerial, truncate(s, 80))
	}
	n, ok := new(big.Int).SetString(t, 16)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrBadSerial, truncate(s, 80))
	}
	return SerialHex(n), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
