package seal

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/seal/sealimg"
)

// Field limits, so one registration cannot bloat every answer.
const (
	MaxNameRunes        = 64  // signName, userName
	MaxTypeRunes        = 32  // signType
	MaxDescriptionRunes = 256 // description
	MaxUserIDRunes      = 64  // userId
	MaxPhoneRunes       = 32  // phone
	MaxSizeCM           = 30.0
)

// ErrInvalid is wrapped by every refusal of Seal.Validate and User.Validate.
var ErrInvalid = errors.New("seal: invalid")

// Seal is one seal image registered for a certificate.
type Seal struct {
	ID          string    // assigned by the store
	Serial      string    // certificate serial, certs.NormalizeSerial form
	Name        string    // signName, e.g. "某某公司公章"
	WidthCM     float64   // signWidth
	HeightCM    float64   // signHeight
	Type        string    // signType, free text such as "公章", "财务章", "个人章"
	Description string    // description
	Ext         string    // signExt: "png" or "jpg", from the image itself
	Image       []byte    // the original file bytes (transparency kept); nil in list results
	ImageSize   int       // len(Image), also set in list results
	ValidFrom   time.Time // APPLYDate; zero: valid from the start
	ValidTo     time.Time // overDate; zero: never expires
	Created     time.Time // set by the store
}

// ValidAt reports whether the seal may be used at t: the bounds are
// inclusive, a zero bound is open.
func (s Seal) ValidAt(t time.Time) bool {
	return validAt(s.ValidFrom, s.ValidTo, t)
}

func validAt(from, to, t time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

// Prepare checks s for storing and returns it normalised: the serial in
// certs.SerialHex form and Ext taken from the image's real format. Stores
// call it, so nothing unchecked is ever stored.
func (s Seal) Prepare() (Seal, error) {
	serial, err := certs.NormalizeSerial(s.Serial)
	if err != nil {
		return Seal{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.Serial = serial
	if err := checkText("name", s.Name, MaxNameRunes, true); err != nil {
		return Seal{}, err
	}
	if err := checkText("type", s.Type, MaxTypeRunes, false); err != nil {
		return Seal{}, err
	}
	if err := checkText("description", s.Description, MaxDescriptionRunes, false); err != nil {
		return Seal{}, err
	}
	for _, d := range []struct {
		what string
		v    float64
	}{{"width", s.WidthCM}, {"height", s.HeightCM}} {
		if math.IsNaN(d.v) || d.v <= 0 || d.v > MaxSizeCM {
			return Seal{}, fmt.Errorf("%w: %s %v cm, must be above 0 and at most %v", ErrInvalid, d.what, d.v, MaxSizeCM)
		}
	}
	if !s.ValidFrom.IsZero() && !s.ValidTo.IsZero() && s.ValidTo.Before(s.ValidFrom) {
		return Seal{}, fmt.Errorf("%w: valid to %s is before valid from %s", ErrInvalid, FormatDate(s.ValidTo), FormatDate(s.ValidFrom))
	}
	info, err := sealimg.Check(s.Image)
	if err != nil {
		return Seal{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s.Ext = info.Ext
	s.ImageSize = len(s.Image)
	// Dates travel at second precision; storing them so keeps both stores
	// and the wire in agreement.
	s.ValidFrom, s.ValidTo = s.ValidFrom.Truncate(time.Second), s.ValidTo.Truncate(time.Second)
	return s, nil
}

// User is who a certificate belongs to, as the seal company knows them
// (the answer's userInfo).
type User struct {
	Serial    string    // certificate serial, certs.NormalizeSerial form
	ID        string    // userId
	Name      string    // userName
	Phone     string    // phone
	ValidFrom time.Time // APPLYDate; zero: unknown
	ValidTo   time.Time // overDate; zero: unknown
	Updated   time.Time // set by the store
}

// Prepare checks u for storing and returns it with the serial normalised.
func (u User) Prepare() (User, error) {
	serial, err := certs.NormalizeSerial(u.Serial)
	if err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	u.Serial = serial
	for _, f := range []struct {
		what string
		v    string
		max  int
	}{{"user id", u.ID, MaxUserIDRunes}, {"user name", u.Name, MaxNameRunes}, {"phone", u.Phone, MaxPhoneRunes}} {
		if err := checkText(f.what, f.v, f.max, false); err != nil {
			return User{}, err
		}
	}
	if !u.ValidFrom.IsZero() && !u.ValidTo.IsZero() && u.ValidTo.Before(u.ValidFrom) {
		return User{}, fmt.Errorf("%w: user valid to is before valid from", ErrInvalid)
	}
	u.ValidFrom, u.ValidTo = u.ValidFrom.Truncate(time.Second), u.ValidTo.Truncate(time.Second)
	return u, nil
}

func checkText(what, s string, max int, required bool) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalid, what)
	case required && s == "":
		return fmt.Errorf("%w: %s is required", ErrInvalid, what)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%w: %s longer than %d characters", ErrInvalid, what, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}
