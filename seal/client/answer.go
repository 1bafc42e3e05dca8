package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/sealimg"
)

// Limits on what a company's answer may hold.
const (
	maxSeals       = 64
	maxTextRunes   = 256 // signName, signType, userName …
	maxDescription = 1024
	maxSizeCM      = 100.0
)

// flexString reads a JSON string, number or null as text: companies differ
// on whether code "0" is a string (the guide) or a number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or number, got %.20s", b)
		}
		*f = flexString(n.String())
	}
	return nil
}

// embedded reads a JSON value that some companies send double-encoded, as
// a string holding the JSON text ("userInfo":"{\"userId\":…}").
func embedded(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return nil
		}
		raw = []byte(s)
	}
	return json.Unmarshal(raw, v)
}

type wireAnswer struct {
	Code      flexString      `json:"code"`
	Message   flexString      `json:"message"`
	UserInfo  json.RawMessage `json:"userInfo"`
	SignInfos json.RawMessage `json:"signInfos"`
}

type wireUser struct {
	UserID    flexString `json:"userId"`
	APPLYDate flexString `json:"APPLYDate"`
	OverDate  flexString `json:"overDate"`
	UserName  flexString `json:"userName"`
	Phone     flexString `json:"phone"`
}

type wireSign struct {
	SignName    flexString `json:"signName"`
	SignWidth   flexString `json:"signWidth"`
	SignHeight  flexString `json:"signHeight"`
	SignExt     flexString `json:"signExt"`
	SignData    flexString `json:"signData"`
	Description flexString `json:"description"`
	APPLYDate   flexString `json:"APPLYDate"`
	OverDate    flexString `json:"overDate"`
	SignType    flexString `json:"signType"`
}

// parseAnswer reads a company's answer body. On success the seals are the
// valid ones at now, with canonical base64 images, sizes and extensions.
// Failures are *Error without Company set.
func parseAnswer(body []byte, now time.Time) (*Result, error) {
	badf := func(format string, args ...any) error {
		return &Error{Kind: ErrBadAnswer, Err: fmt.Errorf(format, args...)}
	}
	var a wireAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&a); err != nil {
		return nil, badf("not a JSON object: %w", err)
	}
	code, msg := strings.TrimSpace(string(a.Code)), printable(string(a.Message), 200)
	switch code {
	case "":
		return nil, badf("no code")
	case seal.CodeOK:
	case seal.CodeNoSeals:
		return nil, &Error{Kind: ErrNoSeals, Code: code, Message: msg}
	default:
		return nil, &Error{Kind: ErrCompanyError, Code: printable(code, 32), Message: msg}
	}

	res := &Result{}
	var u wireUser
	if err := embedded(a.UserInfo, &u); err != nil {
		return nil, badf("userInfo: %w", err)
	}
	for _, f := range []flexString{u.UserID, u.APPLYDate, u.OverDate, u.UserName, u.Phone} {
		if err := checkText(string(f), maxTextRunes); err != nil {
			return nil, badf("userInfo: %w", err)
		}
	}
	res.User = seal.UserInfo{UserID: string(u.UserID), APPLYDate: string(u.APPLYDate), OverDate: string(u.OverDate), UserName: string(u.UserName), Phone: string(u.Phone)}

	var signs []wireSign
	if err := embedded(a.SignInfos, &signs); err != nil {
		return nil, badf("signInfos: %w", err)
	}
	if len(signs) > maxSeals {
		return nil, badf("%d seals, at most %d", len(signs), maxSeals)
	}
	for i, s := range signs {
		info, err := checkSign(s)
		if err != nil {
			return nil, badf("signInfos[%d]: %w", i, err)
		}
		if !validAt(info.APPLYDate, info.OverDate, now) {
			continue
		}
		res.Seals = append(res.Seals, info)
	}
	if len(res.Seals) == 0 {
		return nil, &Error{Kind: ErrNoSeals, Code: code, Message: msg}
	}
	return res, nil
}

func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Errorf("text longer than %d characters", max)
	}
	return nil
}

// checkSign validates one seal and returns it in canonical form.
func checkSign(s wireSign) (seal.SignInfo, error) {
	for _, f := range []flexString{s.SignName, s.SignExt, s.APPLYDate, s.OverDate, s.SignType} {
		if err := checkText(string(f), maxTextRunes); err != nil {
			return seal.SignInfo{}, err
		}
	}
	if err := checkText(string(s.Description), maxDescription); err != nil {
		return seal.SignInfo{}, err
	}
	w, err := parseCM(string(s.SignWidth))
	if err != nil {
		return seal.SignInfo{}, fmt.Errorf("signWidth: %w", err)
	}
	h, err := parseCM(string(s.SignHeight))
	if err != nil {
		return seal.SignInfo{}, fmt.Errorf("signHeight: %w", err)
	}
	img, err := decodeImage(string(s.SignData))
	if err != nil {
		return seal.SignInfo{}, fmt.Errorf("signData: %w", err)
	}
	info, err := sealimg.Check(img)
	if err != nil {
		return seal.SignInfo{}, fmt.Errorf("signData: %w", err)
	}
	return seal.SignInfo{
		SignName:    string(s.SignName),
		SignWidth:   seal.FormatCM(w),
		SignHeight:  seal.FormatCM(h),
		SignExt:     info.Ext, // what the bytes are, whatever the label said
		SignData:    base64.StdEncoding.EncodeToString(img),
		Description: string(s.Description),
		APPLYDate:   string(s.APPLYDate),
		OverDate:    string(s.OverDate),
		SignType:    string(s.SignType),
	}, nil
}

// parseCM reads a size in centimetres: "4.2", "4.2cm", " 4 ".
func parseCM(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "cm"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0 && v <= maxSizeCM) {
		return 0, fmt.Errorf("%q is not a size in centimetres (0–%v]", printable(s, 20), maxSizeCM)
	}
	return v, nil
}

// decodeImage reads base64 the ways it arrives: standard or URL alphabet,
// padded or not, wrapped in lines, or as a data: URL.
func decodeImage(s string) ([]byte, error) {
	if i := strings.Index(s, ";base64,"); strings.HasPrefix(s, "data:") && i >= 0 {
		s = s[i+len(";base64,"):]
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, errors.New("empty")
	}
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// validAt drops seals outside their dates. Dates it cannot read are not held
// against the seal: the company decided to send it.
func validAt(from, to string, now time.Time) bool {
	if t, ok := seal.ParseDate(strings.TrimSpace(from), false); ok && !t.IsZero() && now.Before(t) {
		return false
	}
	if t, ok := seal.ParseDate(strings.TrimSpace(to), true); ok && !t.IsZero() && now.After(t) {
		return false
	}
	return true
}
