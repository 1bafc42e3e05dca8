package certs

import "strings"

// creditCodeAlphabet is the 31-character alphabet of GB 32100-2015 (the
// 统一社会信用代码): digits and uppercase letters without I, O, S, V, Z.
const creditCodeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidCreditCode reports whether s is a well-formed unified social credit
// code: 18 characters from the GB 32100-2015 alphabet, a registration
// authority code (1–9, A, N, Y) first, a 6-digit administrative division
// code in positions 3–8, and the mod-31 check character last.
func ValidCreditCode(s string) bool {
	if len(s) != 18 {
		return false
	}
	if !strings.ContainsRune("123456789ANY", rune(s[0])) {
		return false
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeAlphabet, s[i])
		if v < 0 {
			return false
		}
		sum += v * creditCodeWeights[i]
	}
	check := (31 - sum%31) % 31
	return s[17] == creditCodeAlphabet[check]
}

// CreditCodeCheckChar returns the check character for the first 17
// characters of a credit code, for tools that make test codes.
func CreditCodeCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditCodeWeights[i]
	}
	return creditCodeAlphabet[(31-sum%31)%31], true
}

var idCardWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ValidResidentID reports whether s is a well-formed 18-character
// resident identity card number (GB 11643-1999): 17 digits and a mod-11
// check character (0–9 or X). Person certificates carry it where
// organisation certificates carry a credit code.
func ValidResidentID(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * idCardWeights[i]
	}
	check := "10X98765432"[sum%11]
	c := s[17]
	if c == 'x' {
		c = 'X'
	}
	return c == check
}

// ResidentIDCheckChar returns the check character for 17 digits.
func ResidentIDCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if first17[i] < '0' || first17[i] > '9' {
			return 0, false
		}
		sum += int(first17[i]-'0') * idCardWeights[i]
	}
	return "10X98765432"[sum%11], true
}

// FindCreditCode returns the first valid credit code found in s, whether
// s is the code itself or carries it among other text (CAs write values
// such as "统一社会信用代码:91340100MA2N0XXXXX" or "N91340100…"). An
// 18-digit run that is a valid resident ID number is not taken for a
// credit code: person certificates carry those.
func FindCreditCode(s string) string {
	up := strings.ToUpper(s)
	for start := 0; start+18 <= len(up); start++ {
		cand := up[start : start+18]
		if start > 0 && isCodeChar(up[start-1]) && start+18 < len(up) && isCodeChar(up[start+18]) {
			continue // inside a longer token
		}
		if ValidCreditCode(cand) && !ValidResidentID(cand) {
			return cand
		}
	}
	return ""
}

func isCodeChar(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}
